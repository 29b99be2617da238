// Prepended (--extern-pre-js) to the threaded build so its Node code path
// (require, __dirname, worker_threads) works inside an ES module.
const __ddIsNode = typeof process === 'object' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
const require = __ddIsNode ? (await import('node:module')).createRequire(import.meta.url) : undefined;
const __filename = __ddIsNode ? require('node:url').fileURLToPath(import.meta.url) : '';
const __dirname = __ddIsNode ? require('node:path').dirname(__filename) : '';
