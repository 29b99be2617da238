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
import { fileURLToPath } from 'node:url';
import { downloadModel } from '../wasm/js/registry.js';

const registry = JSON.parse(readFileSync(new URL('./registry.json', import.meta.url), 'utf8')).models.inception5h;

/**
 * @param {{url?: string, dest?: string, fetchFn?: typeof fetch, expectZipBytes?: number|null,
 *          expectBytes?: number|null, member?: string, onProgress?: (done: number, total: number) => void}} [opts]
 * @returns {Promise<{dest: string, bytes: number}>}
 */
export function fetchInception5h(opts = {}) {
  return downloadModel({
    url: opts.url ?? registry.url,
    manualUrl: registry.url,
    dest: opts.dest ?? fileURLToPath(new URL('./tensorflow_inception_graph.pb', import.meta.url)),
    member: opts.member ?? registry.member,
    zipBytes: opts.expectZipBytes === undefined ? registry.zipBytes : opts.expectZipBytes,
    bytes: opts.expectBytes === undefined ? registry.bytes : opts.expectBytes,
    fetchFn: opts.fetchFn,
    onProgress: opts.onProgress,
  });
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
