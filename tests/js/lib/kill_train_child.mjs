// A training process for tests/js/kill_saves.test.js: trains the small model
// of lib/kill_train.js and saves a full checkpoint after every epoch to the
// fixed path <base>/cp.ckpt (the Keras tutorial's training_1/cp.ckpt), printing
// "saved <epoch>" after each, until it is killed or `epochs` is reached.
import { modelCheckpoint, Callback } from '../../../wasm/js/index.js';
import { killTrainData, killTrainModel } from './kill_train.js';

const [base, epochs] = [process.argv[2], Number(process.argv[3])];
const { x, y } = killTrainData();
const m = killTrainModel();
class Report extends Callback {
  async onEpochEnd(epoch) { process.stdout.write(`saved ${epoch + 1}\n`); }
}
await m.fit(x, y, { epochs, batchSize: x.length / 20, verbose: 0, callbacks: [modelCheckpoint(`${base}/cp.ckpt`), new Report()] });
