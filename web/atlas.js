// atlas.js — the Atlas tab: every channel of a layer dreamed from the same noise picture (channelAtlas),
// tile by tile as they finish, with progress and Cancel; cached in IndexedDB, so a finished atlas shows at
// once and a cancelled one continues where it stopped. Clicking a channel makes it the Dream tab's layer, channel and
// objective (channel(L,c), the objective its tile was dreamed with).
// Loaded when the tab is first opened (app.js hands over `page`: the model, settings, useChannel).
import { channelAtlas, ATLAS_DEFAULTS } from '../wasm/js/index.js';
import { drawToCanvas } from '../wasm/js/image.js';
import { atlasChannelObjective } from '../wasm/js/atlas.js';

const $ = (id) => document.getElementById(id);
export const atlasStats = { runs: 0, tiles: 0, cached: 0, firstTileMs: null, lastMs: null, complete: false, lastError: null };
let page = null, controller = null;

const HTML = `
  <div class="tool-grid">
    <section class="card" aria-labelledby="atlas-h">
      <h2 id="atlas-h">Channel atlas</h2>
      <p class="hint">Each channel of a layer, dreamed from the same seeded noise with a few iterations: what the
        channel looks for. Click one to dream with it. Atlases are kept in this browser; a cancelled one continues
        where it stopped.</p>
      <div class="tool-fields">
        <div class="field span2"><label for="atlas-layer">Layer</label><select id="atlas-layer"></select></div>
        <div class="field"><label for="atlas-size">Tile (px)</label><input type="number" id="atlas-size" min="32" max="160" step="8" value="${ATLAS_DEFAULTS.size}"></div>
        <div class="field"><label for="atlas-iterations">Iterations</label><input type="number" id="atlas-iterations" min="1" max="50" step="1" value="${ATLAS_DEFAULTS.iterations}"></div>
        <div class="field"><label for="atlas-octaves">Octaves</label><input type="number" id="atlas-octaves" min="0" max="3" step="1" value="${ATLAS_DEFAULTS.octaves}"></div>
        <div class="field"><label for="atlas-seed">Seed</label><input type="number" id="atlas-seed" min="0" step="1" value="${ATLAS_DEFAULTS.seed}"></div>
      </div>
      <div class="actions" role="group" aria-label="Atlas">
        <button type="button" id="atlas-start" class="primary">Build atlas</button>
        <button type="button" id="atlas-cancel" disabled>Cancel</button>
      </div>
      <progress id="atlas-progress" max="1" value="0" aria-label="Atlas progress"></progress>
      <p id="atlas-status" class="status" aria-live="polite">Choose a layer and build its atlas.</p>
    </section>
    <section class="card atlas-card" aria-labelledby="atlas-grid-h">
      <h2 id="atlas-grid-h">Channels <span id="atlas-count" class="hint"></span></h2>
      <div id="atlas-grid" class="atlas-grid" role="list" aria-label="Channels of the layer"></div>
      <p id="atlas-empty" class="hint">No atlas yet.</p>
    </section>
  </div>`;

function layerOptions() {
  const sel = $('atlas-layer'), m = page.model;
  const prev = sel.value;
  sel.innerHTML = '';
  if (!m) return;
  const seen = new Set();
  const g1 = document.createElement('optgroup'), g2 = document.createElement('optgroup');
  g1.label = 'Dream layers'; g2.label = 'Every conv layer';
  for (const l of m.layers) { seen.add(l.name); g1.append(new Option(`${l.name} — ${l.channels} channels`, l.name)); }
  for (const l of m.convLayers) if (!seen.has(l.name)) g2.append(new Option(`${l.name} — ${l.channels} ch`, l.name));
  sel.append(g1, g2);
  const names = [...sel.options].map((o) => o.value);
  sel.value = names.includes(prev) ? prev : names.includes('mixed4c') ? 'mixed4c' : names[Math.min(2, names.length - 1)];
}

function num(id, min, max) {
  const el = $(id), v = Number(el.value);
  if (el.value === '' || !Number.isInteger(v) || v < min || v > max) { el.setAttribute('aria-invalid', 'true'); throw new Error(`${el.labels[0].textContent}: enter a whole number from ${min} to ${max}`); }
  el.setAttribute('aria-invalid', 'false');
  return v;
}

function busy(on) {
  $('atlas-start').disabled = on;
  $('atlas-cancel').disabled = !on;
  for (const id of ['atlas-layer', 'atlas-size', 'atlas-iterations', 'atlas-octaves', 'atlas-seed']) $(id).disabled = on;
}

function emptyGrid(layer, count, size) {
  const grid = $('atlas-grid');
  grid.innerHTML = '';
  grid.style.setProperty('--tile', `${Math.max(48, Math.min(96, size))}px`);
  const frag = document.createDocumentFragment();
  for (let i = 0; i < count; i++) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'atlas-tile pending';
    b.setAttribute('role', 'listitem');
    b.dataset.channel = String(i);
    b.title = `${layer} channel ${i}: click to dream with it`;
    b.setAttribute('aria-label', `${layer} channel ${i} (not made yet)`);
    b.disabled = true;
    const c = document.createElement('canvas');
    c.width = size; c.height = size;
    const label = document.createElement('span');
    label.textContent = String(i);
    b.append(c, label);
    frag.append(b);
  }
  grid.append(frag);
  $('atlas-empty').hidden = true;
  $('atlas-count').textContent = `(${layer}, ${count})`;
}

async function build() {
  if (controller) return;
  const m = page.model;
  if (!m) { page.tell('Load a model first.'); return; }
  let size, iterations, octaves, seed;
  try {
    size = num('atlas-size', 32, 160); iterations = num('atlas-iterations', 1, 50); octaves = num('atlas-octaves', 0, 3);
    seed = num('atlas-seed', 0, 2 ** 53 - 1);
  } catch (e) { page.showError(e); return; }
  const layer = $('atlas-layer').value;
  const info = m.layers.find((l) => l.name === layer) || m.convLayers.find((l) => l.name === layer);
  emptyGrid(layer, info.channels, size);
  controller = new AbortController();
  busy(true);
  atlasStats.runs++; atlasStats.tiles = 0; atlasStats.cached = 0; atlasStats.firstTileMs = null; atlasStats.complete = false;
  const t0 = performance.now();
  let made = 0;
  const status = (done, total) => {
    const s = (performance.now() - t0) / 1000, fresh = done - atlasStats.cached;
    const eta = fresh > 0 ? ` · about ${Math.ceil((s / fresh) * (total - done))} s left` : '';
    $('atlas-status').textContent = `${done} / ${total} channels${atlasStats.cached ? ` (${atlasStats.cached} from the cache)` : ''} · ${s.toFixed(1)} s${done < total ? eta : ''}`;
    $('atlas-progress').value = done / total;
  };
  $('atlas-status').textContent = `Dreaming ${info.channels} channels of ${layer}…`;
  $('atlas-progress').value = 0;
  try {
    await channelAtlas(m, { layer, size, iterations, octaves, seed }, {
      signal: controller.signal,
      onChannel: (t) => {
        const b = $('atlas-grid').children[t.channel];
        if (b) {
          drawToCanvas(b.querySelector('canvas'), t.image);
          b.classList.remove('pending');
          b.disabled = false;
          b.setAttribute('aria-label', `${layer} channel ${t.channel}: dream with it`);
        }
        made++;
        atlasStats.tiles = made;
        if (t.cached) atlasStats.cached++;
        atlasStats.firstTileMs ??= performance.now() - t0;
        status(made, t.count);
      },
    });
    atlasStats.complete = true;
    atlasStats.lastMs = performance.now() - t0;
    $('atlas-status').textContent = `${layer}: ${info.channels} channels in ${(atlasStats.lastMs / 1000).toFixed(1)} s${atlasStats.cached ? ` (${atlasStats.cached} from the cache)` : ''}. Click a channel to dream with it.`;
  } catch (e) {
    if (e.code === 'DD_ERR_ABORTED') $('atlas-status').textContent = `Cancelled at ${made} / ${info.channels}: Build atlas continues from there.`;
    else { atlasStats.lastError = { code: e.code, message: e.message }; page.showError(e, 'Atlas: '); $('atlas-status').textContent = 'The atlas failed.'; }
  } finally {
    controller = null;
    busy(false);
  }
}

export function initPanel(p) {
  page = p;
  $('atlas-root').innerHTML = HTML;
  layerOptions();
  $('atlas-layer').addEventListener('focus', layerOptions); // the model may have changed in the Dream tab
  $('atlas-start').addEventListener('click', () => { build(); });
  $('atlas-cancel').addEventListener('click', () => { if (controller) controller.abort(); });
  $('atlas-grid').addEventListener('click', (e) => {
    const b = e.target.closest('.atlas-tile');
    if (!b || b.disabled) return;
    const layer = $('atlas-count').textContent.match(/^\((.*), \d+\)$/)[1];
    if (page.running) { page.tell('A dream is running: wait for it to finish (or Cancel it) before choosing another channel.'); return; }
    const c = Number(b.dataset.channel);
    let objective;
    try { objective = atlasChannelObjective(page.model, layer, c); } catch (err) { page.showError(err); return; }
    if (page.useChannel(layer, c, objective)) page.tell(`The Dream tab now dreams ${objective}: ${layer}, channel ${c}, as in its tile.`);
  });
  window.deepdreamDemo.atlas = { stats: atlasStats, build, cancel: () => controller && controller.abort() };
  return true;
}
