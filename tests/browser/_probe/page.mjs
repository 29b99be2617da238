import { startServer } from '../lib.mjs';
import { openEngine } from '../drivers/index.mjs';
const eng = process.argv[2];
const srv = await startServer({ errorHook: true, isolation: process.argv[3] !== 'plain' });
const s = await openEngine(eng);
try {
  console.log(s.version);
  await s.goto(srv.base + '/web/');
  await s.waitFor(() => window.deepdreamDemo && window.deepdreamDemo.model && document.body.dataset.state !== 'loading', null, { timeout: 90000 }).catch(e => console.log('WAIT', e.message));
  console.log(await s.evaluate(() => ({ coi: globalThis.crossOriginIsolated, sab: typeof SharedArrayBuffer, oc: typeof OffscreenCanvas, m: window.deepdreamDemo && window.deepdreamDemo.model, state: document.body.dataset.state, status: document.getElementById('status').textContent, eng: document.getElementById('engine-info').textContent, err: document.getElementById('error-notice').hidden ? null : document.getElementById('error-text').textContent })));
  await s.fill('#iterations', 2); await s.fill('#octaves', 1); await s.fill('#seed', 3);
  const t0 = Date.now();
  await s.click('#start');
  await s.waitFor(() => window.deepdreamDemo.stats.doneCount > 0 || window.deepdreamDemo.stats.lastError, null, { timeout: 180000 });
  console.log('dream', Date.now() - t0, await s.evaluate(() => window.deepdreamDemo.stats.lastError), await s.evaluate(() => window.deepdreamDemo.resultHash()), await s.text('#status'));
  await s.shot(`probe-${eng}.png`);
  console.log('errors', await s.errors());
} finally { await s.close(); await srv.close(); }
