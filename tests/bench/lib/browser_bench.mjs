// browser_bench.mjs — what the headless-Chromium benchmarks share (step_browser.mjs, dream_browser.mjs): a
// watchdog, the load average sampled every 5 s (the machine may be shared), web/server.js with COOP/COEP and a
// fresh Chromium profile around the benchmark's body, page errors printed, everything closed, and the exit code.
import os from 'node:os';

/** Runs body({srv, b, loads}) with a server and a browser; exits the process when done (1 on error or timeout). */
export async function runBrowserBench(name, timeoutS, body) {
  const watchdog = setTimeout(() => { console.error(`${name}: gave up after ${timeoutS} s`); process.exit(1); }, timeoutS * 1000);
  watchdog.unref();
  const loads = [os.loadavg()[0]];
  const sampler = setInterval(() => loads.push(os.loadavg()[0]), 5000);
  sampler.unref();
  const { startServer, openBrowser } = await import('../../browser/lib.mjs');
  let srv, b, code = 0;
  try {
    srv = await startServer({ isolation: true });
    b = await openBrowser();
    await body({ srv, b, loads });
    loads.push(os.loadavg()[0]);
    console.log(`load ${os.loadavg()[0].toFixed(2)} at end (1-minute load sampled every 5 s: max ${Math.max(...loads).toFixed(2)})`);
    if (b.errors.length) console.log(`page errors:\n  ${b.errors.join('\n  ')}`);
  } catch (e) {
    console.error(`${name}: ${e && e.stack || e}`);
    if (b && b.errors.length) console.error(`page errors:\n  ${b.errors.join('\n  ')}`);
    code = 1;
  } finally {
    clearInterval(sampler);
    if (b) await b.close();
    if (srv) await srv.close();
  }
  process.exit(code);
}
