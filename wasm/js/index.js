// deepdream-wasm — DeepDream on TensorFlow GraphDef models (Inception 5h) in
// the browser and in Node, on a C core compiled to WebAssembly SIMD.
export { DeepDreamError, Status } from './errors.js';
export { loadCore, threadsSupported, defaultThreadCount } from './core.js';
export { Model } from './model.js';
import { loadModelBytes } from './model.js';

/**
 * Loads a model. source: URL, Node file path, File/Blob, ArrayBuffer or typed array.
 * @returns {Promise<import('./model.js').Model>}
 */
export async function loadModel(source, opts = {}) {
  return loadModelBytes(source, opts);
}
