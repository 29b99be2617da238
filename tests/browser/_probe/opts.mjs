import { startServer } from '../lib.mjs';
import { openEngine } from '../drivers/index.mjs';
const srv = await startServer({ errorHook: true });
const s = await openEngine('firefox');
try {
  await s.goto(srv.base + '/web/');
  await s.waitFor(() => window.deepdreamDemo && window.deepdreamDemo.model && document.body.dataset.state !== 'loading', null, { timeout: 90000 });
  for (const [k, v] of [['#iterations', 4], ['#octaves', 2], ['#tile', 200], ['#seed', 42], ['#layer', 1]]) await s.fill(k, v);
  await s.click('#start');
  await s.waitFor(() => window.deepdreamDemo.stats.doneCount > 0);
  console.log(JSON.stringify(await s.evaluate(() => window.deepdreamDemo.resultOptions)), await s.evaluate(() => window.deepdreamDemo.resultHash()));
} finally { await s.close(); await srv.close(); }
