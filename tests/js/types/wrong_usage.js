// @ts-check
// What the old declarations allowed and the code never did: each line below
// must be a type error (types.test.js expects exactly these lines).
import { loadModel, sequential, dense } from 'deepdream-wasm';

export async function wrong() {
  const net = sequential([dense(2, { inputShape: [2] })]);
  /** @type {Float32Array} */ const p = await net.predict([[1, 2]]); // line 8: {data, shape}
  /** @type {Float32Array[]} */ const w = await net.getWeights(); // line 9: {name, shape, data}[]
  /** @type {number[]} */ const e = await net.evaluate([[1, 2]], [0]); // line 10: number | [number, number]
  /** @type {void} */ const s = net.summary(); // line 11: a string
  const m = await loadModel('m.pb', { threads: true }); // line 12: threads is a number here
  if (!m.remote) m.free().then(() => {}); // line 13: Model.free returns nothing (RemoteModel.free a Promise)
  return [p, w, e, s];
}
