// atlas_bench.mjs — how long a layer's channel atlas takes: time to the first channel and to all of them (with
// --channels N < the layer's: N of them, and the whole layer projected from their mean), with the load average
// (the machine may be shared: compare figures taken under the same load).
//   node tests/bench/atlas_bench.mjs [MODEL] [--layer mixed4c] [--threads 1,2] [--channels N] [--size 80]
import './lib/help.mjs'; // --help: the usage above, and exit
import os from 'node:os';
import { loadModel, channelAtlas } from '../../wasm/js/index.js';

const args = process.argv.slice(2);
const flag = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--'))) || new URL('../../../shared/models/inception5h-standin.pb', import.meta.url).pathname;
const layer = flag('--layer', 'mixed4c'), size = Number(flag('--size', 80));
for (const threads of flag('--threads', '1,2').split(',').map(Number)) {
  const model = await loadModel(file, { threads });
  const l = model.layers.find((x) => x.name === layer) || model.convLayers.find((x) => x.name === layer);
  const count = Number(flag('--channels', l.channels));
  const t0 = performance.now();
  let first = null, n = 0;
  await channelAtlas(model, { layer, size, channels: { start: 0, end: count } }, {
    cache: false, onChannel: () => { n++; first ??= performance.now() - t0; if (n % 64 === 0) process.stderr.write(`  ${n}/${count} ${((performance.now() - t0) / 1000).toFixed(1)} s\n`); },
  });
  const total = (performance.now() - t0) / 1000;
  const all = count < l.channels ? `, all ${l.channels} projected ${(((total - first / 1000) / Math.max(1, count - 1)) * (l.channels - 1) + first / 1000).toFixed(0)} s` : '';
  console.log(`${layer} ${count} channels, ${size}px, threads ${model.threads}: first channel ${(first / 1000).toFixed(2)} s, all ${total.toFixed(1)} s (${((total / count) * 1000).toFixed(0)} ms per channel${all}); load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  model.free();
}
