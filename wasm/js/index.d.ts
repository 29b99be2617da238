// TypeScript declarations for deepdream-wasm.

// ---------------------------------------------------------------- errors ----
export type DeepDreamErrorCode =
  | 'DD_ERR_INVALID_ARGUMENT' | 'DD_ERR_OUT_OF_MEMORY' | 'DD_ERR_PARSE' | 'DD_ERR_UNSUPPORTED' | 'DD_ERR_NOT_FOUND'
  | 'DD_ERR_SHAPE' | 'DD_ERR_GRAPH' | 'DD_ERR_STATE_MISMATCH' | 'DD_ERR_IO' | 'DD_ERR_ABORTED' | 'DD_ERR_INTERNAL';

/** Every error the package throws: a stable `code` and the C core's message. */
export class DeepDreamError extends Error {
  readonly code: DeepDreamErrorCode | string;
  constructor(code: string, message: string, options?: { cause?: unknown });
}

/** The core's status codes by short name, read from the core (DD_STATUS_LIST) when the first core loads; empty before. */
export const Status: Readonly<{
  OK: 0; DONE: 1; INVALID_ARGUMENT: -1; OUT_OF_MEMORY: -2; PARSE: -3; UNSUPPORTED: -4; NOT_FOUND: -5;
  SHAPE: -6; GRAPH: -7; STATE_MISMATCH: -8; IO: -9; ABORTED: -10; INTERNAL: -11;
}>;

// ------------------------------------------------------------------ core ----
/** Loads (once) the Emscripten module. useThreadedBuild: true = the threaded build, false = the single-threaded
 *  one, absent = threaded where supported (as in loadModel; `threads` is the older name of the same boolean). */
export function loadCore(opts?: { useThreadedBuild?: boolean; /** @deprecated use useThreadedBuild */ threads?: boolean }): Promise<unknown>;
/** True when the threaded build can run here (Node, or a cross-origin isolated page). */
export function threadsSupported(): boolean;
/** One thread per core: navigator.hardwareConcurrency or os.availableParallelism(). */
export function defaultThreadCount(): Promise<number>;
/** True in a browser window whose browser has module Workers: models and dreams then run in a module Worker (elsewhere in-process). */
export const runsInWorkerByDefault: boolean;
export function terminateWorker(): void;

// ---------------------------------------------------------------- images ----
export interface RawImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** 3 (RGB) or 4 (RGBA: alpha passes through untouched). */
  channels?: 3 | 4;
}
export type ImageSource = RawImage | ImageData | ImageBitmap | HTMLCanvasElement | OffscreenCanvas;
export function decodeImage(bytes: Uint8Array | ArrayBuffer): Promise<Required<RawImage>>;
export function encodeImage(img: RawImage, format?: 'png' | 'jpeg', quality?: number): Promise<Uint8Array>;

// ---------------------------------------------------------------- models ----
export interface LayerInfo {
  index: number;
  name: string;
  channels: number;
  nodeIndex: number;
}
/** Training (Sequential) backends. */
export type Backend = 'auto' | 'reference' | 'simd128';
/** Model (GraphDef) backends: the training ones, and XNNPACK where the build has it. */
export type ModelBackend = Backend | 'xnnpack';
export type ModelSource = string | URL | Blob | ArrayBuffer | ArrayBufferView;

export interface LoadModelOptions {
  /** Run the core in a Worker (default: true in a browser window, false elsewhere; Node: worker_threads). */
  worker?: boolean;
  /** Move (not copy) an ArrayBuffer source to the worker. */
  transfer?: boolean;
  backend?: ModelBackend;
  /** Threads for the kernels, a number (default: one per core; the threaded build needs cross-origin isolation). */
  threads?: number;
  /** Which core build: true = the threaded one (its load fails where SharedArrayBuffer is unavailable), false = the
   *  single-threaded one; default: threaded when threads > 1 and the page is cross-origin isolated. */
  useThreadedBuild?: boolean;
  /** Called while reading a large file: fraction 0..1. */
  onProgress?: (fraction: number, done?: number, total?: number) => void;
  store?: IndexedDBStore;
}

/**
 * What the network expects, applied by dreams: they take RGB 0..255 and feed
 * net[order(c)] = (pixel[c] - mean[c]) * scale[c], and map the gradient back.
 * forward() and gradient() feed the network as they are.
 */
export interface ModelDescription {
  /** The recognised structure ('inception5h', 'bvlc_googlenet', 'vgg16', 'resnet50'), '' when unknown. */
  name: string;
  channelOrder: 'RGB' | 'BGR';
  /** Per RGB channel, in 0..255 units. */
  mean: [number, number, number];
  /** Per RGB channel, > 0 (1 / std in 0..255 units). */
  scale: [number, number, number];
  /** Index into `layers` (Inception 5h: 2, the tutorial's). */
  defaultLayer: number;
}

/** A loaded TensorFlow GraphDef (e.g. Inception 5h). */
export class Model {
  /** Absent on an in-process model (RemoteModel has remote: true). */
  readonly remote?: undefined;
  /** The dream layers: Inception 5h's 12 tutorial layers (conv2d0 .. mixed5b). */
  readonly layers: LayerInfo[];
  /** Every Conv2D (Inception 5h: 59 layers, 7548 channels). */
  readonly convLayers: LayerInfo[];
  readonly byteLength: number;
  /** The threads this model runs on: the request, clamped to the build and to the wasm instance's one shared pool. */
  readonly threads: number;
  readonly variant: 'st' | 'mt';
  /** 64-bit fingerprint of graph and weights (16 hex digits). */
  readonly fingerprint: string;
  /** Input channel order, mean and scale, default dream layer (set at load from the recognised structure). */
  readonly description: ModelDescription;
  /** Overrides fields of the description (defaultLayer also by layer name); not while a dream runs. */
  setDescription(desc: Partial<Omit<ModelDescription, 'defaultLayer'>> & { defaultLayer?: number | string }): void;
  findNode(name: string): { name: string; channels: number; nodeIndex: number };
  /** Forward to any node on an HxWx3 float image (fed as is: the tutorial feeds raw 0..255). */
  forward(input: Float32Array, height: number, width: number, node: string): { data: Float32Array; shape: number[] };
  /** d mean(square(layer[..., channels])) / d input. */
  gradient(input: Float32Array, height: number, width: number, objective?: GradientObjective): {
    grad: Float32Array;
    loss: number;
  };
  /** Prints the time per op of one gradient step. */
  profile(input: Float32Array, height: number, width: number, layer?: string | number): void;
  /** The model file's bytes. */
  bytes(): Uint8Array;
  /** Caches the model file, e.g. 'indexeddb://inception5h'. */
  save(url: string, opts?: { store?: IndexedDBStore }): Promise<void>;
  /** Releases the model. While one of its dreams runs, new work is refused at once and the memory is released when the dream settles. */
  free(): void;
}

/** The same model, hosted by a module Worker (what loadModel returns in a browser window). */
export class RemoteModel {
  readonly remote: true;
  readonly layers: LayerInfo[];
  readonly convLayers: LayerInfo[];
  /** The description when the model was loaded (set it on an in-process Model). */
  readonly description: ModelDescription;
  readonly fingerprint: string;
  readonly byteLength: number;
  readonly threads: number;
  readonly variant: 'st' | 'mt';
  /** Why a page that can run threads got the single-threaded build (its Workers never started), else null. */
  readonly fallback: string | null;
  readonly alive: boolean;
  findNode(name: string): Promise<{ name: string; channels: number; nodeIndex: number }>;
  forward(input: Float32Array, height: number, width: number, node: string): Promise<{ data: Float32Array; shape: number[] }>;
  gradient(input: Float32Array, height: number, width: number, objective?: GradientObjective): Promise<{
    grad: Float32Array;
    loss: number;
  }>;
  bytes(): Promise<Uint8Array>;
  save(url: string, opts?: { store?: IndexedDBStore; meta?: object }): Promise<void>;
  /** Frees the model; the worker ends with the last model. Resolves once the worker has freed it. Safe to call twice. */
  free(): Promise<void>;
}
/** A dream running in the worker: the DreamController API, with promise-returning readers. */
export class RemoteDream extends EventTarget {
  readonly id: string;
  readonly model: RemoteModel;
  /** 0 until the worker has started (or resumed) the dream. */
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4 | 0;
  /** The options as the worker normalised them; null until it has started. */
  readonly options: NormalizedDreamOptions | null;
  readonly paused: boolean;
  readonly ended: boolean;
  readonly progress: DreamProgress | null;
  readonly result: Promise<Required<RawImage>>;
  pause(): void;
  resume(): void;
  abort(): void;
  saveState(): Promise<Uint8Array>;
  currentImage(): Promise<Required<RawImage>>;
  currentGradient(): Promise<Required<RawImage>>;
  setCanvas(canvas: HTMLCanvasElement | null): void;
}

/** Loads a GraphDef from a URL, Node file path, File/Blob, bytes, or 'indexeddb://name'.
    In a browser window the model lives in a module Worker (a RemoteModel). */
export function loadModel(source: ModelSource, opts?: LoadModelOptions): Promise<Model | RemoteModel>;
export function saveModelBytes(url: string, bytes: Uint8Array | ArrayBuffer, opts?: { store?: IndexedDBStore; meta?: object }): Promise<void>;
export function listModels(opts?: { store?: IndexedDBStore }): Promise<Record<string, { byteLength: number; savedAt: string }>>;
export function removeModel(url: string, opts?: { store?: IndexedDBStore }): Promise<void>;
export function copyModel(from: string, to: string, opts?: { store?: IndexedDBStore }): Promise<void>;

/** The tutorial's objective by layer and channels, or an objective expression (DreamOptions.objective) with
    an optional guide image as floats fed as they are (for guide(...) terms); loss is then its value. */
export interface GradientObjective {
  layer?: string | number;
  channels?: number[];
  objective?: string;
  guide?: { data: Float32Array; width: number; height: number };
}

// ---------------------------------------------------------------- dreams ----
export interface DreamOptions {
  /** A node name or a dream-layer index (default: the model's description.defaultLayer; Inception 5h: 2, conv2d2). */
  layer?: string | number;
  /** Channel subset: [0, 1, 2], '0:3', '1,5,7' or {start, end}. Default: all. */
  channels?: number[] | string | { start?: number; end: number };
  /** Gradient steps per octave (10). */
  iterations?: number;
  /** Step size (3.0). */
  stepSize?: number;
  /** Tile size in pixels (400). */
  tileSize?: number;
  /** Octaves below full size, the tutorial's num_repeats (4). Alias: octaves. */
  repeats?: number;
  octaves?: number;
  /** Octave scale factor (0.7). */
  rescale?: number;
  /** Share of the original image at each octave (0.2). */
  blend?: number;
  /** All randomness comes from it; same seed and build give the same bytes (0). */
  seed?: number | bigint | string;
  /** Subtracted from pixels before the network (0; the TF1 example uses 117). */
  inputMean?: number;
  resample?: 'lanczos-u8' | 'lanczos-float';
  /** What to amplify (default '': the tutorial's mean(square(layer[..., channels]))). Grammar: a sum of
      [w*]square(L[,CH]) | channel(L,c) | neuron(L,c[,dx,dy]) | direction(L,[v,...]) | strong(L,k) | weak(L,k) | guide(L),
      e.g. '0.5*channel(mixed4c,97)+neuron(mixed4d,12)'. */
  objective?: string;
  /** Guide image for guide(L) terms (with no objective: guide(layer)). Worker dreams also take a Blob. */
  guide?: ImageSource | Blob;
  /** Total-variation penalty weight (0). */
  tv?: number;
  /** The tutorial's three blurs ('smooth') or the TF1 notebook's lap_normalize ('laplacian'). */
  gradient?: 'smooth' | 'laplacian';
  /** lap_normalize's scale_n, 1..8 (4). */
  lapLevels?: number;
  /** Caffe's jitter: roll each tile by up to N px (0). */
  roll?: number;
  /** Lucid's pad: N px of grey around each tile (0). */
  pad?: number;
  /** Lucid's jitter: shift each tile by up to N px (0). */
  jitter?: number;
  /** Lucid's random scale: zoom each tile by 1-X..1+X, X in 0..0.5 (0). */
  scale?: number;
  /** Lucid's random rotate: by -X..X degrees, X in 0..180 (0). */
  rotate?: number;
  /** Tiles per step between progress events (1). */
  tilesPerStep?: number;
  /** Redrawn after every tile with the image as it is. */
  canvas?: HTMLCanvasElement | OffscreenCanvas;
  signal?: AbortSignal;
  onProgress?: (p: DreamProgress) => void;
  /** Save the state while dreaming; resumeDream() continues it after a reload. */
  checkpoint?: DreamCheckpoint;
  id?: string;
  /** Worker dreams: redraw the canvas when the image changes (default) or after every tile. */
  frameEvery?: 'change' | 'tile';
  /** Worker dreams: move the source pixels to the worker instead of copying them. */
  transfer?: boolean;
}

export interface DreamCheckpoint {
  /** 'indexeddb' (pages), a directory (Node), or a store object (in-process models only). */
  storage?: 'indexeddb' | string | DreamStore;
  /** Save every N tiles (a whole number >= 1); with neither this nor everySeconds, every 8 tiles. */
  everyTiles?: number;
  /** Save when this many seconds (> 0) have passed since the last save. */
  everySeconds?: number;
  /** Remove the record when the dream finishes (default true). */
  removeWhenDone?: boolean;
  /** With removeWhenDone false: save the finished state (fraction 1) before the 'done' event. */
  saveWhenDone?: boolean;
  /** Plain data (JSON values: it crosses to a Worker and into checkpoint files) merged into every saved record; the
   *  standard fields come after it and win. A typed array, a function or a class instance is refused when the dream
   *  is asked for (DD_ERR_INVALID_ARGUMENT), as is a schedule that is not a positive number. */
  record?: Record<string, unknown>;
}

export interface DreamProgress {
  octave: number;
  numOctaves: number;
  iteration: number;
  numIterations: number;
  tile: number;
  numTiles: number;
  tilesDone: number;
  /** An estimate: tile counts depend on random offsets. */
  tilesTotal: number;
  /** Exact share of the work done, by pixels. */
  fraction: number;
  tileX: number;
  tileY: number;
  tileWidth: number;
  tileHeight: number;
  imageWidth: number;
  imageHeight: number;
  gradMin: number;
  gradMax: number;
  stepScaled: number;
  /** Milliseconds inside the core since this dream object began (a resumed dream starts at 0): msCore in all,
      of which the network's tile gradients, tile copies, std/min/max reductions, the three blurs, the image
      update + gradient preview, and the pyramid (blur, resizes, blend). */
  msCore: number;
  msGradient: number;
  msTiles: number;
  msStats: number;
  msSmooth: number;
  msUpdate: number;
  msLevels: number;
  /** Seconds of dreaming since start (pauses excluded), and the estimated seconds left (null until it can be priced: a few % into the dream). */
  elapsed: number;
  eta: number | null;
}

/** DreamOptions as a dream uses them: every default filled in, channels a list, the seed a decimal string. */
export interface NormalizedDreamOptions {
  layer: string | number;
  channels: number[];
  iterations: number;
  stepSize: number;
  tileSize: number;
  repeats: number;
  rescale: number;
  blend: number;
  seed: string;
  inputMean: number;
  resample: 'lanczos-u8' | 'lanczos-float';
  tilesPerStep: number;
  objective: string;
  tv: number;
  gradient: 'smooth' | 'laplacian';
  lapLevels: number;
  roll: number;
  pad: number;
  jitter: number;
  scale: number;
  rotate: number;
}

export class DreamController extends EventTarget {
  readonly id: string;
  readonly model: Model;
  readonly options: NormalizedDreamOptions;
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly paused: boolean;
  readonly progress: DreamProgress | null;
  /** The final image. Rejects with DD_ERR_ABORTED on abort. */
  readonly result: Promise<Required<RawImage>>;
  pause(): void;
  resume(): void;
  abort(): void;
  /** The complete state as bytes. */
  saveState(): Uint8Array;
  currentImage(): Required<RawImage>;
  /** The last smoothed gradient, normalised to 0..255, RGB (the tutorial's show_gradient). */
  currentGradient(): Required<RawImage>;
}

export const DEFAULTS: Readonly<Required<Pick<DreamOptions, 'layer' | 'iterations' | 'stepSize' | 'tileSize' | 'repeats' | 'rescale' | 'blend' | 'inputMean' | 'resample' | 'tilesPerStep' | 'objective' | 'tv' | 'gradient' | 'lapLevels' | 'roll' | 'pad' | 'jitter' | 'scale' | 'rotate'>>>;
export function parseChannels(ch: DreamOptions['channels']): number[];
export function dream(model: Model, source: ImageSource, options?: DreamOptions): DreamController;
export function dream(model: RemoteModel, source: ImageSource | Blob, options?: DreamOptions): RemoteDream;
/** resumeDream's options: where the checkpoint is (storage), and how to keep checkpointing (false: not at all). */
export type ResumeOptions = Omit<DreamOptions, 'layer' | 'channels' | 'seed' | 'checkpoint'> & {
  storage?: 'indexeddb' | string | DreamStore;
  checkpoint?: DreamOptions['checkpoint'] | false;
};
export function resumeDream(model: RemoteModel, id: string, options?: ResumeOptions): Promise<RemoteDream>;
export function resumeDream(model: Model, id: string, options?: ResumeOptions): Promise<DreamController>;

// ------------------------------------------------------- zoom animation ----
/** The dream options an animation or atlas passes to each dream (no callbacks, canvas, signal or checkpoint). */
export type PlainDreamOptions = Omit<DreamOptions, 'canvas' | 'signal' | 'onProgress' | 'checkpoint' | 'id' | 'frameEvery' | 'transfer'>;
export interface ZoomAnimationOptions extends PlainDreamOptions {
  /** Frames, 1..100000 (the CLIs' --zoom); default 10. */
  frames?: number;
  /** Zoom per frame, in (1, 4] (--zoom-scale); default 1.05. */
  zoom?: number;
}
export interface ZoomFrame { index: number; frames: number; image: Required<RawImage> & { data: Uint8Array } }
export interface ZoomProgress extends DreamProgress {
  frame: number;
  frames: number;
  /** The share of the frame's dream done; `fraction` is the share of the whole animation. */
  frameFraction: number;
}
export interface ZoomHooks {
  /** Awaited: write the frame, encode it, show it. */
  onFrame?: (frame: ZoomFrame) => void | Promise<void>;
  onProgress?: (p: ZoomProgress) => void;
  signal?: AbortSignal;
  /** Each frame's dream is checkpointed under the animation's id (a store object: in-process models only). */
  checkpoint?: { storage?: 'indexeddb' | string | DreamStore; everyTiles?: number; everySeconds?: number; id?: string };
  /** false: the result's `frames` stays empty (default true). */
  keepFrames?: boolean;
}
/** Where a checkpointed animation is: the `animation` field of its dream record. */
export interface ZoomAnimationPosition { frame: number; frames: number; zoom: number; seed: string; options: PlainDreamOptions }
export interface ZoomResult { id: string; first: number; frames: (Required<RawImage> & { data: Uint8Array })[] }
export const ANIMATION_DEFAULTS: Readonly<{ frames: number; zoom: number }>;
export function zoomAnimation(model: Model | RemoteModel, image: ImageSource, options?: ZoomAnimationOptions, hooks?: ZoomHooks): Promise<ZoomResult>;
export function resumeZoomAnimation(model: Model | RemoteModel, id: string, hooks?: ZoomHooks & { storage?: 'indexeddb' | string | DreamStore }): Promise<ZoomResult>;
/** An animated GIF (gifenc, 256 colours per frame) of same-sized frames. */
export function encodeGif(frames: ImageSource[], opts?: { delay?: number; repeat?: number; onProgress?: (fraction: number) => void }): Promise<Uint8Array>;

// -------------------------------------------------------- channel atlas ----
export interface AtlasOptions extends Omit<PlainDreamOptions, 'channels'> {
  /** All of the layer's channels by default. */
  channels?: DreamOptions['channels'];
  /** Tile size in pixels, 16..512 (80). */
  size?: number;
  /** Grid columns (default ceil(sqrt(channels))). */
  columns?: number;
}
export interface AtlasTile {
  channel: number;
  index: number;
  count: number;
  column: number;
  row: number;
  /** true when the tile came from the cache. */
  cached: boolean;
  image: { data: Uint8Array; width: number; height: number; channels: 3 };
}
export interface AtlasCache {
  load(want: { key: string; size: number; channels: number[] }): Promise<object | null>;
  save(record: object): Promise<void>;
}
export interface AtlasHooks {
  onChannel?: (tile: AtlasTile) => void | Promise<void>;
  signal?: AbortSignal;
  /** 'indexeddb' (the default in browsers), a directory (Node), a cache object, or false (the default in Node). */
  cache?: 'indexeddb' | string | IndexedDBStore | AtlasCache | false | null;
  cacheEverySeconds?: number;
}
export interface AtlasResult {
  layer: string;
  channels: number[];
  size: number;
  columns: number;
  rows: number;
  image: { data: Uint8Array; width: number; height: number; channels: 3 };
  complete: true;
  key: string;
}
export const ATLAS_DEFAULTS: Readonly<{ size: number; iterations: number; octaves: number; stepSize: number; seed: number }>;
/** The options that make channel c's picture: `{objective: 'channel(layer,c)'}` (mean activation). `layer`: a node name
 * of letters, digits and `_ . / : -` (not all digits), or a dream-layer index; anything else is DD_ERR_INVALID_ARGUMENT. */
export function channelObjective(layer: string | number, c: number): { objective: string };
export function channelAtlas(model: Model | RemoteModel, options?: AtlasOptions, hooks?: AtlasHooks): Promise<AtlasResult>;

// --------------------------------------------------------------- storage ----
export const FORMAT_VERSION: 1;
export interface DreamRecordMeta {
  id: string;
  kind: 'deepdream-wasm/dream';
  formatVersion: 1;
  createdAt: string;
  updatedAt: string;
  modelFingerprint: string;
  width: number;
  height: number;
  channels: 3 | 4;
  options: NormalizedDreamOptions;
  fraction: number;
  /** A zoom animation's frame (its checkpoint.record); fraction 1: that frame is finished. */
  animation?: ZoomAnimationPosition;
}
export interface DreamStore {
  saveDream(record: object): Promise<object>;
  loadDream(id: string): Promise<DreamRecordMeta & { state: Uint8Array }>;
  /** Unusable records are listed in `.skipped`, never loaded half-way. */
  listDreams(): Promise<DreamRecordMeta[] & { skipped: { id: string; reason: string }[] }>;
  removeDream(id: string): Promise<void>;
}
export class IndexedDBStore implements DreamStore {
  constructor(factory?: IDBFactory);
  saveDream(record: object): Promise<object>;
  loadDream(id: string): Promise<DreamRecordMeta & { state: Uint8Array }>;
  listDreams(): Promise<DreamRecordMeta[] & { skipped: { id: string; reason: string }[] }>;
  removeDream(id: string): Promise<void>;
  saveModel(name: string, bytes: Uint8Array | ArrayBuffer, meta?: object): Promise<void>;
  loadModel(name: string): Promise<Uint8Array>;
  listModels(): Promise<Record<string, { byteLength: number; savedAt: string }>>;
  removeModel(name: string): Promise<void>;
  close(): void;
}
export class FileStore implements DreamStore {
  constructor(dir: string);
  saveDream(record: object): Promise<object>;
  loadDream(id: string): Promise<DreamRecordMeta & { state: Uint8Array }>;
  listDreams(): Promise<DreamRecordMeta[] & { skipped: { id: string; reason: string }[] }>;
  removeDream(id: string): Promise<void>;
}
export function openStore(target?: 'indexeddb' | string | DreamStore): DreamStore;
export function listDreams(storage?: 'indexeddb' | string | DreamStore): ReturnType<DreamStore['listDreams']>;
export function removeDream(id: string, storage?: 'indexeddb' | string | DreamStore): Promise<void>;

// -------------------------------------------------------------- training ----
export type Activation = 'relu' | 'softmax' | 'linear';
export type Tensorish = Float32Array | number[] | number[][] | ArrayLike<number>;
export interface Logs { [key: string]: number }

export class Layer {
  readonly name: string;
  getConfig(): object;
  static fromConfig(config: object): Layer;
}
export class Dense extends Layer {}
export class Dropout extends Layer {}
export class Conv2D extends Layer {}
export class MaxPooling2D extends Layer {}
export class Flatten extends Layer {}
export function dense(units: number, opts?: { activation?: Activation; inputShape?: number[]; useBias?: boolean; name?: string }): Dense;
export function dropout(rate: number, opts?: { name?: string }): Dropout;
export function conv2d(filters: number, kernelSize: number | [number, number], opts?: {
  strides?: number | [number, number]; padding?: 'valid' | 'same'; activation?: Activation; inputShape?: number[]; name?: string;
}): Conv2D;
export function maxPooling2d(opts?: { poolSize?: number | [number, number]; strides?: number | [number, number]; padding?: 'valid' | 'same'; name?: string }): MaxPooling2D;
export function flatten(opts?: { name?: string }): Flatten;
export function registerLayer(cls: typeof Layer, name?: string): void;
export function clearSession(): void;

export class Adam {
  constructor(opts?: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number });
}
export function adam(opts?: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number }): Adam;
export class SparseCategoricalCrossentropy {
  constructor(opts?: { fromLogits?: boolean });
}
export function sparseCategoricalCrossentropy(opts?: { fromLogits?: boolean }): SparseCategoricalCrossentropy;

export class Callback {
  onTrainBegin?(logs?: Logs): void | Promise<void>;
  onTrainEnd?(logs?: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number, logs?: Logs): void | Promise<void>;
  onEpochEnd?(epoch: number, logs?: Logs): void | Promise<void>;
  onBatchBegin?(batch: number, logs?: Logs): void | Promise<void>;
  onBatchEnd?(batch: number, logs?: Logs): void | Promise<void>;
}
export class History extends Callback {
  /** The epochs run (0-based). */
  readonly epoch: number[];
  readonly history: { [metric: string]: number[] };
  readonly params: {
    epochs: number; initialEpoch: number; samples: number; steps: number; batchSize: number;
    verbose: 0 | 1 | 2; doValidation: boolean; metrics: string[];
  };
}
export interface ModelCheckpointOptions {
  saveWeightsOnly?: boolean;
  saveFreq?: 'epoch' | number;
  /** Deprecated alias: every N epochs (warns once). */
  period?: number;
  saveBestOnly?: boolean;
  monitor?: string;
  mode?: 'auto' | 'min' | 'max';
  initialValueThreshold?: number;
  verbose?: 0 | 1;
  maxToKeep?: number;
}
export class ModelCheckpoint extends Callback {
  constructor(filepath: string, opts?: ModelCheckpointOptions);
}
/** filepath may hold templates: 'training_2/cp-{epoch:04d}', '{val_loss:.2f}'; 'indexeddb://...' or a file path. */
export function modelCheckpoint(filepath: string, opts?: ModelCheckpointOptions): ModelCheckpoint;
export function latestCheckpoint(dir: string, opts?: object): Promise<string | null>;
export function formatFilepath(template: string, values: Logs & { epoch?: number; batch?: number }): string;

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  validationData?: [Tensorish, Tensorish];
  validationSplit?: number;
  callbacks?: Callback[];
  shuffle?: boolean;
  initialEpoch?: number;
  verbose?: 0 | 1 | 2;
  /** Batch size of the validation pass (default: batchSize). */
  validationBatchSize?: number;
  /** When fit() yields to the event loop: every ~125 ms ('auto'), after each batch or epoch, or every N ms. */
  yieldEvery?: 'auto' | 'batch' | 'epoch' | number;
  /** Where the progress lines go (default console.log). */
  print?: (line: string) => void;
}
/** One weight as getWeights() returns it (setWeights() takes these or bare Float32Arrays). */
export interface WeightEntry {
  /** "<layer>/kernel" or "<layer>/bias". */
  name: string;
  shape: number[];
  data: Float32Array;
}
/** What save() and saveWeights() resolve to: the checkpoints removed by maxToKeep, or an IOHandler's own result. */
export interface SaveResult {
  removed?: string[];
  [key: string]: unknown;
}
export class Sequential {
  constructor(opts?: { layers?: Layer[]; name?: string; seed?: number | bigint; threads?: number; backend?: Backend });
  readonly name: string;
  /** All randomness follows from it (random when not given). */
  readonly seed: number | bigint;
  readonly threads: number;
  readonly backend: Backend;
  /** Epochs completed by fit() (the next fit continues from here with initialEpoch). */
  epoch: number;
  /** Set to true in a callback to stop fit() (checked after every batch and epoch). */
  stopTraining: boolean;
  readonly layers: Layer[];
  readonly inputShape: number[] | undefined;
  readonly outputShape: number[] | undefined;
  /** Adam's step count. */
  readonly iterations: number;
  add(layer: Layer): void;
  /** Prints the Keras summary table with printFn and returns it as one string. */
  summary(lineLength?: number, positions?: number[], printFn?: (line: string) => void): string;
  compile(args: { optimizer?: 'adam' | Adam; loss: 'sparseCategoricalCrossentropy' | SparseCategoricalCrossentropy; metrics?: ('accuracy' | 'acc')[] }): void;
  /** Creates the wasm model now (every async method does it when needed). */
  build(): Promise<this>;
  fit(x: Tensorish, y: Tensorish, opts?: FitOptions): Promise<History>;
  /** The loss, or [loss, metric] when compiled with a metric. */
  evaluate(x: Tensorish, y: Tensorish, opts?: { batchSize?: number; verbose?: 0 | 1; print?: (line: string) => void }): Promise<number | [number, number]>;
  /** Class scores, n x classes, row after row. */
  predict(x: Tensorish, opts?: { batchSize?: number }): Promise<{ data: Float32Array; shape: number[] }>;
  getWeights(): Promise<WeightEntry[]>;
  setWeights(list: (WeightEntry | Float32Array)[]): Promise<void>;
  /** Architecture, weights, training config, optimizer state and counters (TF.js layout). */
  save(path: string, opts?: object): Promise<SaveResult>;
  saveWeights(path: string, opts?: object): Promise<SaveResult>;
  loadWeights(path: string, opts?: object): Promise<void>;
  dispose(): void;
}
export function sequential(layers?: Layer[], opts?: { name?: string; seed?: number; threads?: number; backend?: Backend }): Sequential;
/** Loads a model saved by model.save() or by TF.js; fit() then continues where it stopped. */
export function loadLayersModel(path: string, opts?: { customObjects?: Record<string, typeof Layer> }): Promise<Sequential>;

export const MNIST_NPZ_URL: string;
export const MNIST_IDX_BASE_URL: string;
export interface NdArray { data: ArrayLike<number>; shape: number[]; dtype?: string }
/** Keras' mnist.load_data(): from mnist.npz or the four IDX files (gzip or not), by URL, path or bytes. */
export function loadMnist(opts?: object): Promise<{ train: { images: NdArray; labels: NdArray }; test: { images: NdArray; labels: NdArray } }>;
export function prepareImages(set: { images: NdArray; labels: NdArray }, opts?: { limit?: number; flatten?: boolean; scale?: number }): {
  x: Float32Array; y: Int32Array; n: number; shape: number[];
};
export function parseIdx(bytes: Uint8Array, what?: string): NdArray;
export function parseNpy(bytes: Uint8Array, what?: string): NdArray;
export function parseNpz(bytes: Uint8Array, what?: string): Promise<Record<string, NdArray>>;
