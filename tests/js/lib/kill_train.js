// The model and data the training kill test (kill_saves.test.js) and its child
// process (kill_train_child.mjs) share: both must train bit-identically.
import { sequential, dense, dropout } from '../../../wasm/js/index.js';
import { uniform } from './kill.js';

/** n samples of `per` features in `classes` separable classes (feature j leans towards class j % classes). */
export function killTrainData(n = 40, per = 20, classes = 3, seed = 7) {
  const rnd = uniform(seed);
  const y = Int32Array.from({ length: n }, () => Math.floor(rnd() * classes));
  const x = Float32Array.from({ length: n * per }, (_, k) => rnd() - 0.5 + ((k % per) % classes === y[Math.floor(k / per)] ? 0.7 : 0));
  return { x, y };
}

export function killTrainModel(seed = 3) {
  const m = sequential([dense(64, { activation: 'relu', inputShape: [20] }), dropout(0.1), dense(3, { activation: 'softmax' })], { seed });
  m.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  return m;
}
