import { loadModel, dream } from '../../../wasm/js/index.js';
import { samplePicture } from '../../../web/samples.js';
import { createHash } from 'node:crypto';
const p = samplePicture(640, 400);
const rgba = new Uint8Array(640 * 400 * 4);
for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) { rgba[i] = p.data[j]; rgba[i + 1] = p.data[j + 1]; rgba[i + 2] = p.data[j + 2]; rgba[i + 3] = 255; }
const m = await loadModel('../../../models/default-model.pb', { threads: 1 });
const o = JSON.parse(process.argv[2]);
const r = await dream(m, { data: rgba, width: 640, height: 400, channels: 4 }, o).result;
console.log(r.channels, createHash('sha256').update(r.data).digest('hex'));
