// The model and data the training kill test (kill_saves.test.js) and its child
// process (kill_train_child.mjs) share: both must train bit-identically.
import { sequential, dense, dropout } from '../../../wasm/js/index.js';

export function killTrainData(n = 40, per = 20, classes = 3, seed = 7) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const x = new Float32Array(n * per), y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = Math.floor(rnd() * classes);
    for (let j = 0; j < per; j++) x[i * per + j] = rnd() - 0.5 + (j % classes === y[i] ? 0.7 : 0);
  }
  return { x, y };
}

export function killTrainModel(seed = 3) {
  const m = sequential([dense(64, { activation: 'relu', inputShape: [20] }), dropout(0.1), dense(3, { activation: 'softmax' })], { seed });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}
