#!/usr/bin/env node
// fetch-inception5h.mjs — downloads Google's inception5h.zip from its official
// location (models/registry.json) when the network allows, checks its size,
// unpacks tensorflow_inception_graph.pb (CRC-checked), checks that size, and
// writes it (default: models/tensorflow_inception_graph.pb, git-ignored).
//
//   node models/fetch-inception5h.mjs [DEST] [--url URL]
//
// Then: ./build/deepdream --model models/tensorflow_inception_graph.pb ...
import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzip } from '../wasm/js/train/mnist.js';

const registry = JSON.parse(readFileSync(new URL('./registry.json', import.meta.url), 'utf8')).models.inception5h;

/**
 * @param {{url?: string, dest?: string, fetchFn?: typeof fetch, expectZipBytes?: number|null,
 *          expectBytes?: number|null, member?: string, onProgress?: (done: number, total: number) => void}} [opts]
 * @returns {Promise<{dest: string, bytes: number}>}
 */
export async function fetchInception5h(opts = {}) {
  const url = opts.url ?? registry.url;
  const dest = opts.dest ?? fileURLToPath(new URL('./tensorflow_inception_graph.pb', import.meta.url));
  const member = opts.member ?? registry.member;
  const expectZip = opts.expectZipBytes === undefined ? registry.zipBytes : opts.expectZipBytes;
  const expect = opts.expectBytes === undefined ? registry.bytes : opts.expectBytes;
  const res = await (opts.fetchFn ?? fetch)(url);
  if (!res.ok) throw new Error(`fetching ${url} failed: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length')) || expectZip || 0;
  const parts = [];
  let done = 0;
  for await (const chunk of res.body) {
    parts.push(chunk);
    done += chunk.length;
    if (opts.onProgress) opts.onProgress(done, total);
  }
  const zip = Buffer.concat(parts);
  if (expectZip && zip.length !== expectZip) throw new Error(`${url}: got ${zip.length} bytes, expected ${expectZip}`);
  const entry = unzip(zip, url).get(member);
  if (!entry) throw new Error(`${url} has no member '${member}'`);
  const pb = await entry.read();
  if (expect && pb.length !== expect) throw new Error(`${member}: ${pb.length} bytes, expected ${expect}`);
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}`;
  await writeFile(tmp, pb);
  await rename(tmp, dest);
  return { dest, bytes: pb.length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const ui = args.indexOf('--url');
  const url = ui >= 0 ? args.splice(ui, 2)[1] : undefined;
  fetchInception5h({
    url, dest: args[0],
    onProgress: (d, t) => process.stderr.write(`\rdownloading inception5h.zip: ${(d / 2 ** 20).toFixed(1)} / ${(t / 2 ** 20).toFixed(1)} MiB`),
  }).then(({ dest, bytes }) => console.error(`\nwrote ${dest} (${bytes} bytes)`),
    (e) => { console.error(`\nfetch-inception5h: ${e.message}\n(no network? download ${registry.url} by hand and unzip ${registry.member})`); process.exit(1); });
}
