import { openEngine } from '../drivers/index.mjs';
const s = await openEngine('webkit');
try {
  await s.goto('data:text/html,<body style="height:3000px">x</body>');
  console.log(await s.evaluate(() => [innerWidth, innerHeight, outerWidth, outerHeight, document.documentElement.clientWidth]));
  const r = await s.driver.manage().window().getRect(); console.log(r);
  await s.setViewport(390, 844);
  await new Promise(r => setTimeout(r, 500));
  console.log(await s.evaluate(() => [innerWidth, innerHeight, outerWidth, outerHeight, document.documentElement.clientWidth]));
  console.log(await s.driver.manage().window().getRect());
  await s.evaluate(() => window.scrollTo(0, 500));
  await s.screenshot('/tmp/probe/wk.png');
  console.log(await s.evaluate(() => scrollY));
} finally { await s.close(); }
