// animate.js — the Animate tab: the zoom movie (zoomAnimation: dream a frame, zoom into its centre, dream
// again) on the Dream tab's picture and settings, with progress and Cancel; a preview that loops the frames;
// downloads as PNG frames (a zip), an animated GIF (gifenc) and WebM (WebCodecs VideoEncoder + webm-muxer,
// when this browser has them; otherwise the button says why). Loaded when the tab is first opened.
// Resumable after a reload: each frame's dream is checkpointed in IndexedDB (a dream record with an
// `animation` field, written by the model's worker) and each finished frame is kept in anim-frames.js;
// the tab then offers "An animation was interrupted at frame k of N — Resume / Discard", as the Dream tab
// offers its unfinished dream. One animation is kept at a time: "Make frames" with one kept asks first.
import { zoomAnimation, resumeZoomAnimation, listDreams, removeDream, encodeGif, encodeImage, ANIMATION_DEFAULTS } from '../wasm/js/index.js';
import { drawToCanvas } from '../wasm/js/image.js';
import { zipStore } from './zip-store.js';
import { frameStore } from './anim-frames.js';

// as the Dream tab's checkpoints (app.js): every 8 tiles or 5 s, in IndexedDB
const CHECKPOINT = { storage: 'indexeddb', everyTiles: 8, everySeconds: 5 };
const $ = (id) => document.getElementById(id);
export const animateStats = { runs: 0, frames: 0, complete: false, lastError: null, storeError: null, gifBytes: null, webmBytes: null, zipBytes: null, webm: null };
let page = null, controller = null, frames = [], timer = 0;
let pending = null; // the interrupted animation's latest record (listDreams), or null

const HTML = `
  <div id="anim-resume" class="notice info" role="region" aria-label="Interrupted animation" hidden>
    <p id="anim-resume-text">An animation was interrupted.</p>
    <div class="row" id="anim-offer-btns">
      <button type="button" id="anim-resume-btn" class="primary">Resume</button>
      <button type="button" id="anim-discard-btn">Discard</button>
    </div>
    <div class="row" id="anim-replace-btns" hidden>
      <button type="button" id="anim-replace-btn" class="primary">Make new frames</button>
      <button type="button" id="anim-keep-btn">Keep it</button>
    </div>
  </div>
  <div class="tool-grid">
    <section class="card" aria-labelledby="anim-h">
      <h2 id="anim-h">Zoom animation</h2>
      <p class="hint">Google's DeepDream movie: dream the picture, zoom into its centre a little, dream again — one
        frame per step. Uses the Dream tab's picture, layer, channels and settings; frame <i>n</i> dreams with seed + <i>n</i>.</p>
      <div class="tool-fields">
        <div class="field"><label for="anim-frames">Frames</label><input type="number" id="anim-frames" min="1" max="500" step="1" value="${ANIMATION_DEFAULTS.frames}"></div>
        <div class="field"><label for="anim-zoom">Zoom per frame</label><input type="number" id="anim-zoom" min="1.01" max="4" step="0.01" value="${ANIMATION_DEFAULTS.zoom}"></div>
        <div class="field"><label for="anim-size">Size (long side)</label><input type="number" id="anim-size" min="64" max="2048" step="2" value="320"></div>
        <div class="field"><label for="anim-fps">Frames / s</label><input type="number" id="anim-fps" min="1" max="60" step="1" value="8"></div>
      </div>
      <div class="actions" role="group" aria-label="Animation">
        <button type="button" id="anim-start" class="primary">Make frames</button>
        <button type="button" id="anim-cancel" disabled>Cancel</button>
      </div>
      <progress id="anim-progress" max="1" value="0" aria-label="Animation progress"></progress>
      <p id="anim-status" class="status" aria-live="polite">Ready.</p>
      <div class="downloads" role="group" aria-label="Download the animation">
        <button type="button" id="anim-zip" disabled title="A .zip of one PNG per frame">PNG frames</button>
        <button type="button" id="anim-gif" disabled>GIF</button>
        <button type="button" id="anim-webm" disabled>WebM</button>
      </div>
      <p id="anim-webm-note" class="hint" hidden></p>
    </section>
    <section class="card" aria-labelledby="anim-view-h">
      <h2 id="anim-view-h">Frames <span id="anim-count" class="hint"></span></h2>
      <div class="anim-stage"><canvas id="anim-preview" role="img" aria-label="The animation, looping"></canvas></div>
      <div id="anim-strip" class="anim-strip" aria-label="Every frame"></div>
    </section>
  </div>`;

function num(id, min, max, integer = true) {
  const el = $(id), v = Number(el.value);
  if (el.value === '' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    el.setAttribute('aria-invalid', 'true');
    throw new Error(`${el.labels[0].textContent}: enter a ${integer ? 'whole ' : ''}number from ${min} to ${max}`);
  }
  el.setAttribute('aria-invalid', 'false');
  return v;
}

/** WebM needs WebCodecs' VideoEncoder with VP8: null when it is there, else the reason. */
async function webmMissing(w = 320, h = 240) {
  if (typeof VideoEncoder !== 'function' || typeof VideoFrame !== 'function') return 'WebM needs WebCodecs (VideoEncoder), which this browser does not have: download the GIF or the PNG frames instead.';
  try {
    const s = await VideoEncoder.isConfigSupported({ codec: 'vp8', width: w, height: h, bitrate: 2e6 });
    return s.supported ? null : 'This browser cannot encode VP8 video: download the GIF or the PNG frames instead.';
  } catch (e) { return `WebM is not available here (${e.message}).`; }
}

function busy(on) {
  $('anim-start').disabled = on;
  for (const id of ['anim-resume-btn', 'anim-discard-btn', 'anim-replace-btn', 'anim-keep-btn']) $(id).disabled = on;
  $('anim-cancel').disabled = !on;
  for (const id of ['anim-frames', 'anim-zoom', 'anim-size']) $(id).disabled = on;
  const have = !on && frames.length > 0;
  $('anim-zip').disabled = !have;
  $('anim-gif').disabled = !have;
  $('anim-webm').disabled = !have || !!animateStats.webm;
}

/** The Dream tab's picture at the chosen long side (even sides, for video), as RGBA pixels. */
function startPicture(long) {
  const src = page.source;
  const k = Math.min(1, long / Math.max(src.width, src.height));
  const w = Math.max(2, Math.round((src.width * k) / 2) * 2), h = Math.max(2, Math.round((src.height * k) / 2) * 2);
  const c = new OffscreenCanvas(w, h), ctx = c.getContext('2d');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src.bitmap, 0, 0, w, h);
  const id = ctx.getImageData(0, 0, w, h);
  return { data: new Uint8Array(id.data.buffer), width: w, height: h, channels: 4 };
}

function play() {
  clearInterval(timer);
  if (frames.length < 2) return;
  let i = 0;
  const fps = Number($('anim-fps').value) || 8;
  timer = setInterval(() => { if (!frames.length) return; i = (i + 1) % frames.length; drawToCanvas($('anim-preview'), frames[i]); }, 1000 / Math.min(60, Math.max(1, fps)));
}

/** Adds a frame to the page: the list the exports read, the preview, the strip. */
function showFrame(index, image) {
  frames[index] = image;
  animateStats.frames = frames.filter(Boolean).length;
  drawToCanvas($('anim-preview'), image);
  const c = document.createElement('canvas');
  const k = 72 / Math.max(image.width, image.height);
  c.width = Math.max(1, Math.round(image.width * k)); c.height = Math.max(1, Math.round(image.height * k));
  c.title = `frame ${index + 1}`;
  c.dataset.index = String(index);
  drawToCanvas(c, image);
  const strip = $('anim-strip'), old = strip.querySelector(`canvas[data-index="${index}"]`);
  if (old) old.replaceWith(c); else strip.append(c);
}

/** Clears the tab for an animation of n frames at width x height. */
function reset(width, height) {
  clearInterval(timer);
  frames = [];
  $('anim-strip').innerHTML = '';
  const preview = $('anim-preview');
  preview.width = width; preview.height = height;
  $('anim-count').textContent = `(${width} × ${height})`;
}

/**
 * Runs an animation (start: hooks => zoomAnimation or resumeZoomAnimation) to its end or its cancellation:
 * progress, each frame kept in anim-frames.js (under id) before the next one starts, the exports enabled after.
 */
async function runAnimation(id, start) {
  controller = new AbortController();
  busy(true);
  animateStats.runs++; animateStats.complete = false; animateStats.gifBytes = animateStats.webmBytes = animateStats.zipBytes = null;
  const t0 = performance.now();
  try {
    await start({
      signal: controller.signal,
      keepFrames: false,
      checkpoint: { ...CHECKPOINT, id },
      onProgress: (p) => {
        $('anim-progress').value = p.fraction;
        $('anim-status').textContent = `Frame ${p.frame + 1} of ${p.frames} · ${Math.round(p.frameFraction * 100)}% · ${((performance.now() - t0) / 1000).toFixed(1)} s`;
      },
      onFrame: async ({ index, image }) => {
        showFrame(index, image);
        await frameStore.put(id, index, image).catch((e) => { // a full disk costs the resume after a reload, not the frames
          if (!animateStats.storeError) page.tell(`This browser could not keep frame ${index + 1} (${e.message}): the animation cannot resume after a reload.`);
          animateStats.storeError = e.message;
        });
      },
    });
    animateStats.complete = true;
    $('anim-status').textContent = `${frames.length} frames in ${((performance.now() - t0) / 1000).toFixed(1)} s. Download them below.`;
    frameStore.clear().catch(() => {});
    play();
  } catch (e) {
    if (e.code === 'DD_ERR_ABORTED') { // as the Dream tab's Cancel: nothing to resume is kept (the frames made stay on the page)
      await removeDream(id, 'indexeddb').catch(() => {});
      await frameStore.clear().catch(() => {});
      $('anim-status').textContent = `Cancelled after ${frames.length} frame${frames.length === 1 ? '' : 's'}.`;
    } else { animateStats.lastError = { code: e.code, message: e.message }; page.showError(e, 'Animation: '); $('anim-status').textContent = 'The animation failed.'; }
    play();
  } finally {
    controller = null;
    busy(false);
    refreshOffer();
  }
}

/** Asks, in the offer's place, whether new frames may replace the interrupted animation (one is kept at a time). */
function askReplace() {
  const a = pending.animation;
  $('anim-resume-text').textContent = `Making new frames discards the interrupted animation (frame ${stoppedAt(pending) + 1} `
    + `of ${a.frames}, ${pending.width} × ${pending.height} px): it cannot be resumed after that.`;
  $('anim-offer-btns').hidden = true;
  $('anim-replace-btns').hidden = false;
  $('anim-resume').hidden = false;
  $('anim-resume').scrollIntoView({ block: 'nearest' });
  $('anim-replace-btn').focus();
}

/** Makes a new animation; with an interrupted one kept, only once the user agreed to discard it (replace). */
async function make(replace = false) {
  if (controller) return;
  if (!page.model || !page.source) { page.tell('Load a model and a picture first (Dream tab).'); return; }
  if (page.running) { page.tell('A dream is running: wait for it to finish (or Cancel it) first.'); return; }
  let n, zoom, long, settings;
  try {
    n = num('anim-frames', 1, 500); zoom = num('anim-zoom', 1.01, 4, false); long = num('anim-size', 64, 2048);
    settings = page.settings();
  } catch (e) { page.showError(e); return; }
  if (pending && !replace) { askReplace(); return; }
  await discard(); // one animation is kept at a time: the user agreed to replace the interrupted one
  const start = startPicture(long);
  reset(start.width, start.height);
  drawToCanvas($('anim-preview'), start);
  $('anim-status').textContent = `Frame 1 of ${n}…`;
  const id = `zoom-${crypto.randomUUID()}`;
  await runAnimation(id, (hooks) => zoomAnimation(page.model, start, { ...settings, frames: n, zoom }, hooks));
}

// ---------------------------------------------------------------- resume ----
/** The frame an interrupted animation stopped in (0-based): a record at fraction 1 is a finished frame. */
const stoppedAt = (r) => Math.min(r.animation.frames - 1, r.animation.frame + (r.fraction === 1 ? 1 : 0));

/** Shows the interrupted animation (the latest dream record with an `animation` field), if there is one. */
async function refreshOffer() {
  let list = [];
  try { list = await listDreams('indexeddb'); } catch { list = []; }
  const anims = list.filter((r) => r.animation && Number.isInteger(r.animation.frame) && Number.isInteger(r.animation.frames))
    .sort((a, b) => String(b.updatedAt).localeCompare(String(a.updatedAt)));
  pending = controller ? null : anims[0] || null;
  $('anim-resume').hidden = !pending;
  $('anim-offer-btns').hidden = false;
  $('anim-replace-btns').hidden = true;
  if (!pending) return;
  const a = pending.animation;
  $('anim-resume-text').textContent = `An animation was interrupted at frame ${stoppedAt(pending) + 1} of ${a.frames} `
    + `(${pending.width} × ${pending.height} px). Continue it, or discard it?`;
}

async function resume() {
  const r = pending;
  if (!r || controller) return;
  if (page.running) { page.tell('A dream is running: wait for it to finish (or Cancel it) first.'); return; }
  if (!page.model) { page.tell('Wait for the model to load (Dream tab).'); return; }
  if (page.model.fingerprint !== r.modelFingerprint) {
    page.showError(new Error('this animation was made with another model: load that model on the Dream tab, then Resume'), 'Cannot resume: ');
    return;
  }
  const a = r.animation, first = a.frame; // frames before the one in the record are kept here; it delivers the rest
  let kept;
  try { kept = await frameStore.load(r.id, first); } catch (e) { page.showError(e, 'Cannot resume: '); return; }
  const missing = kept.flatMap((f, i) => (f ? [] : [i + 1]));
  if (missing.length) {
    page.showError(new Error(`frame${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of this animation ${missing.length > 1 ? 'were' : 'was'} not kept in this browser: Discard it and make it again`), 'Cannot resume: ');
    return;
  }
  $('anim-resume').hidden = true;
  $('anim-frames').value = String(a.frames);
  $('anim-zoom').value = String(a.zoom);
  $('anim-size').value = String(Math.max(r.width, r.height));
  reset(r.width, r.height);
  kept.forEach((f, i) => showFrame(i, f));
  $('anim-progress').value = first / a.frames;
  $('anim-status').textContent = `Resuming at frame ${stoppedAt(r) + 1} of ${a.frames}…`;
  await runAnimation(r.id, (hooks) => resumeZoomAnimation(page.model, r.id, hooks));
}

/** Removes the interrupted animation: its checkpoint and its kept frames. */
async function discard() {
  const r = pending;
  pending = null;
  $('anim-resume').hidden = true;
  if (r) await removeDream(r.id, 'indexeddb').catch((e) => page.showError(e));
  await frameStore.clear().catch(() => {});
}

function save(blob, name) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

async function exporting(button, what, fn) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = `${what}…`;
  try { await fn(); } catch (e) { animateStats.lastError = { code: e.code, message: e.message }; page.showError(e, `${what}: `); } finally { button.textContent = label; button.disabled = false; }
}

async function downloadZip() {
  const files = [];
  for (let i = 0; i < frames.length; i++) {
    files.push({ name: `frame-${String(i).padStart(4, '0')}.png`, bytes: await encodeImage(frames[i], 'png') });
    $('anim-status').textContent = `PNG ${i + 1} of ${frames.length}…`;
  }
  const blob = zipStore(files);
  animateStats.zipBytes = blob.size;
  save(blob, 'deepdream-zoom-frames.zip');
  $('anim-status').textContent = `PNG frames: ${(blob.size / 1e6).toFixed(1)} MB.`;
}

async function downloadGif() {
  const fps = num('anim-fps', 1, 60);
  const bytes = await encodeGif(frames, { delay: Math.round(1000 / fps), onProgress: (f) => { $('anim-status').textContent = `GIF: ${Math.round(f * 100)}%`; } });
  animateStats.gifBytes = bytes.length;
  save(new Blob([bytes], { type: 'image/gif' }), 'deepdream-zoom.gif');
  $('anim-status').textContent = `GIF: ${(bytes.length / 1e6).toFixed(2)} MB, ${frames.length} frames.`;
}

async function downloadWebm() {
  const { Muxer, ArrayBufferTarget } = await import('webm-muxer');
  const fps = num('anim-fps', 1, 60), { width, height } = frames[0];
  const muxer = new Muxer({ target: new ArrayBufferTarget(), video: { codec: 'V_VP8', width, height, frameRate: fps } });
  let failed = null;
  const enc = new VideoEncoder({ output: (chunk, meta) => muxer.addVideoChunk(chunk, meta), error: (e) => { failed = e; } });
  enc.configure({ codec: 'vp8', width, height, bitrate: Math.max(1e6, width * height * fps * 0.15), framerate: fps });
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i];
    const rgba = new Uint8ClampedArray(width * height * 4);
    if (f.channels === 4) rgba.set(f.data); else { const c = new OffscreenCanvas(width, height); drawToCanvas(c, f); rgba.set(c.getContext('2d').getImageData(0, 0, width, height).data); }
    const vf = new VideoFrame(rgba, { format: 'RGBA', codedWidth: width, codedHeight: height, timestamp: Math.round((i * 1e6) / fps), duration: Math.round(1e6 / fps) });
    enc.encode(vf, { keyFrame: i % 30 === 0 });
    vf.close();
    $('anim-status').textContent = `WebM: frame ${i + 1} of ${frames.length}`;
    if (enc.encodeQueueSize > 4) await new Promise((r) => setTimeout(r, 0));
  }
  await enc.flush();
  enc.close();
  if (failed) throw failed;
  muxer.finalize();
  const buf = muxer.target.buffer;
  animateStats.webmBytes = buf.byteLength;
  save(new Blob([buf], { type: 'video/webm' }), 'deepdream-zoom.webm');
  $('anim-status').textContent = `WebM: ${(buf.byteLength / 1e6).toFixed(2)} MB, ${frames.length} frames.`;
}

export async function initPanel(p) {
  page = p;
  $('animate-root').innerHTML = HTML;
  $('anim-start').addEventListener('click', () => { make(); });
  $('anim-cancel').addEventListener('click', () => { if (controller) controller.abort(); });
  $('anim-resume-btn').addEventListener('click', () => { resume(); });
  $('anim-discard-btn').addEventListener('click', async () => { await discard(); refreshOffer(); });
  $('anim-replace-btn').addEventListener('click', () => { make(true); });
  $('anim-keep-btn').addEventListener('click', () => { refreshOffer().then(() => $('anim-resume-btn').focus()); });
  $('anim-fps').addEventListener('change', play);
  $('anim-zip').addEventListener('click', () => exporting($('anim-zip'), 'PNG frames', downloadZip));
  $('anim-gif').addEventListener('click', () => exporting($('anim-gif'), 'GIF', downloadGif));
  $('anim-webm').addEventListener('click', () => exporting($('anim-webm'), 'WebM', downloadWebm));
  animateStats.webm = await webmMissing();
  if (animateStats.webm) {
    $('anim-webm').title = animateStats.webm;
    $('anim-webm').textContent = 'WebM (not available)';
    $('anim-webm-note').textContent = animateStats.webm;
    $('anim-webm-note').hidden = false;
  }
  busy(false);
  await refreshOffer();
  window.deepdreamDemo.animate = {
    stats: animateStats, make, resume, cancel: () => controller && controller.abort(), get frames() { return frames.length; },
    /** SHA-256 (hex) of every frame's pixels, in order (the tests compare a resumed animation with an uninterrupted one). */
    async hashes() {
      return Promise.all(frames.map(async (f) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', f.data))].map((b) => b.toString(16).padStart(2, '0')).join('')));
    },
  };
  return true;
}
