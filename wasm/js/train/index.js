// Training: Keras-style Sequential models trained in the C core, saved as
// TF.js ModelArtifacts (IndexedDB or model.json + weights.bin), with
// ModelCheckpoint, latestCheckpoint and the MNIST loaders. See README.md.
export { Sequential, sequential, loadLayersModel, toSamples, toLabels } from './model.js';
export { Layer, Dense, Dropout, Conv2D, MaxPooling2D, Flatten, dense, dropout, conv2d, maxPooling2d, flatten, registerLayer,
  clearSession, Builder } from './layers.js';
export { Adam, adam, SparseCategoricalCrossentropy, sparseCategoricalCrossentropy } from './optim.js';
export { Callback, History, ModelCheckpoint, modelCheckpoint } from './callbacks.js';
export { latestCheckpoint, crc32 } from './io.js';
export { formatFilepath } from './format.js';
export { loadMnist, parseIdx, parseNpy, parseNpz, unzip, gunzip, prepareImages, MNIST_NPZ_URL, MNIST_IDX_BASE_URL, MNIST_IDX_FILES } from './mnist.js';
