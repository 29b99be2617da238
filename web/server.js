#!/usr/bin/env node
// server.js — the project's small static server for the demo page.
//
//   node web/server.js [PORT] [--port N] [--host 127.0.0.1] [--shared DIR] [--no-isolation] [--quiet]
//   npm start
//
// Serves the repository's web/, wasm/ and models/ directories (and, read-only,
// an optional --shared DIR under /shared/, for test fixtures) on 127.0.0.1.
// Every response carries Cross-Origin-Opener-Policy: same-origin and
// Cross-Origin-Embedder-Policy: require-corp, so the page is cross-origin
// isolated and the threaded wasm build can use SharedArrayBuffer;
// --no-isolation omits them (the page then runs single-threaded). Paths that
// escape a root (.., encoded slashes, NUL, symlinks pointing outside) are
// refused. Only GET and HEAD. /models/index.json lists the model files served.
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { readdir, stat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.pb': 'application/octet-stream',
  '.zip': 'application/zip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Creates (does not start) the server.
 * @param {{root?: string, models?: string, shared?: string|null, isolation?: boolean, log?: (line: string) => void}} [opts]
 *   models: the directory served as /models/ (default: the repository's models/)
 */
/** The npm packages the page imports (its import map): the GIF encoder and the WebM muxer. */
const VENDOR = new Set(['gifenc', 'webm-muxer']);

export function createServer(opts = {}) {
  const root = path.resolve(opts.root || REPO);
  const isolation = opts.isolation !== false;
  const mounts = new Map([
    ['web', path.join(root, 'web')],
    ['wasm', path.join(root, 'wasm')],
    ['models', path.resolve(opts.models || path.join(root, 'models'))],
    ['vendor', path.join(root, 'node_modules')], // only the page's runtime dependencies: VENDOR
  ]);
  if (opts.shared) mounts.set('shared', path.resolve(opts.shared));
  const log = opts.log || (() => {});
  const realRoots = new Map();
  const realRoot = async (name) => {
    if (!realRoots.has(name)) realRoots.set(name, await realpath(mounts.get(name)).catch(() => null));
    return realRoots.get(name);
  };

  const headers = (extra = {}) => ({
    ...(isolation ? {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    } : {}),
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
    ...extra,
  });

  const send = (res, status, text, extra) => {
    const body = Buffer.from(`${text}\n`);
    res.writeHead(status, headers({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length, ...extra }));
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };

  /** Maps a URL path to a file inside one of the roots, or null. */
  async function resolveFile(urlPath) {
    let p;
    try {
      p = decodeURIComponent(urlPath);
    } catch {
      return null;
    }
    if (p.includes('\0') || p.includes('\\')) return null;
    const parts = p.split('/').filter((s) => s !== '' && s !== '.');
    if (parts.some((s) => s === '..')) return null;
    if (parts.length === 0) return null;
    const mount = parts.shift();
    if (!mounts.has(mount)) return null;
    if (mount === 'vendor' && !VENDOR.has(parts[0])) return null;
    const base = await realRoot(mount);
    if (!base) return null;
    let file = path.join(base, ...parts);
    let st;
    try {
      file = await realpath(file); // follow symlinks, then check the real path
      st = await stat(file);
    } catch {
      return null;
    }
    if (file !== base && !file.startsWith(base + path.sep)) return null;
    if (st.isDirectory()) {
      file = path.join(file, 'index.html');
      try { st = await stat(file); } catch { return { redirectDir: false, missing: true }; }
      if (!urlPath.endsWith('/')) return { redirectDir: true };
    }
    if (!st.isFile()) return null;
    return { file, size: st.size, mtime: st.mtime };
  }

  // /models/index.json: the model files this server has (e.g. the real Inception 5h that
  // models/fetch-inception5h.mjs wrote), so the page can offer them without probing for 404s.
  async function sendModelIndex(req, res) {
    let names = [];
    try { names = await readdir(mounts.get('models')); } catch { /* none */ }
    const files = [];
    for (const name of names.filter((n) => /\.(pb|onnx|zip)$/i.test(n)).sort()) {
      const hit = await resolveFile(`/models/${encodeURIComponent(name)}`);
      if (hit && !hit.missing && !hit.redirectDir) files.push({ name, bytes: hit.size });
    }
    const body = Buffer.from(JSON.stringify({ files }));
    res.writeHead(200, headers({ 'Content-Type': MIME['.json'], 'Content-Length': body.length }));
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = http.createServer(async (req, res) => {
    const t0 = Date.now();
    res.on('finish', () => log(`${req.method} ${req.url} ${res.statusCode} ${Date.now() - t0}ms`));
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      const url = new URL(req.url, 'http://localhost');
      if (url.pathname === '/' || url.pathname === '/index.html') {
        res.writeHead(302, headers({ Location: '/web/' + url.search, 'Content-Length': 0 }));
        return res.end();
      }
      if (url.pathname === '/models/index.json') return sendModelIndex(req, res);
      const hit = await resolveFile(url.pathname);
      if (!hit || hit.missing) return send(res, 404, 'not found');
      if (hit.redirectDir) {
        res.writeHead(301, headers({ Location: `${url.pathname}/${url.search}`, 'Content-Length': 0 }));
        return res.end();
      }
      const type = MIME[path.extname(hit.file).toLowerCase()] || 'application/octet-stream';
      res.writeHead(200, headers({ 'Content-Type': type, 'Content-Length': hit.size, 'Last-Modified': hit.mtime.toUTCString() }));
      if (req.method === 'HEAD') return res.end();
      const stream = createReadStream(hit.file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch (e) {
      if (!res.headersSent) send(res, 500, 'internal error');
      else res.destroy();
      log(`error: ${e && e.stack}`);
    }
  });
  return server;
}

function parseArgs(argv) {
  const a = { port: process.env.PORT !== undefined ? Number(process.env.PORT) : 8080, host: '127.0.0.1', shared: null, isolation: true, quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${k} needs a value`);
      return argv[++i];
    };
    if (k === '--port' || k === '-p') a.port = Number(v());
    else if (k === '--host') a.host = v();
    else if (k === '--shared') a.shared = v();
    else if (k === '--no-isolation') a.isolation = false;
    else if (k === '--quiet' || k === '-q') a.quiet = true;
    else if (k === '-h' || k === '--help') a.help = true;
    else if (/^\d+$/.test(k)) a.port = Number(k);
    else throw new Error(`unknown argument '${k}'`);
  }
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new Error(`bad port '${a.port}'`);
  return a;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let a;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`server.js: ${e.message}`);
    process.exit(2);
  }
  if (a.help) {
    console.log('usage: node web/server.js [PORT] [--port N] [--host 127.0.0.1] [--shared DIR] [--no-isolation] [--quiet]');
    process.exit(0);
  }
  const server = createServer({ shared: a.shared, isolation: a.isolation, log: a.quiet ? undefined : (l) => console.log(l) });
  server.on('error', (e) => {
    console.error(`server.js: ${e.message}`);
    process.exit(1);
  });
  server.listen(a.port, a.host, () => {
    const { port } = server.address();
    console.log(`deepdream-wasm demo: http://${a.host}:${port}/web/  (cross-origin isolation ${a.isolation ? 'on' : 'off'}${a.shared ? `, /shared/ = ${path.resolve(a.shared)}` : ''})`);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
}
