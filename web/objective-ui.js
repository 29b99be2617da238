// objective-ui.js — the Dream tab's objective and transform controls (issue 15): an objective expression, a guide
// image, total variation, the gradient treatment and the robustness transforms. Every control starts at the
// tutorial's value (off), so a dream started without touching them is the tutorial's. app.js mounts it into the
// settings card and spreads objectiveOptions() into dream()'s options.

const $ = (id) => document.getElementById(id);

let guide = null; // {bitmap: ImageBitmap, name}

const FIELDS = `
  <div class="field span2">
    <label for="objective">Objective <span class="hint">(empty: the tutorial's, of the layer above)</span></label>
    <input type="text" id="objective" placeholder="e.g. channel(mixed4c,97) or 0.5*square(mixed4c)+neuron(mixed4d,12)"
      autocomplete="off" spellcheck="false" aria-describedby="objective-help">
    <span id="objective-help" class="hint">square(L[,ch]) · channel(L,c) · neuron(L,c[,dx,dy]) · direction(L,[v,…]) ·
      strong(L,k) · weak(L,k) · guide(L), weighted with <code>0.5*</code> and summed with <code>+</code>/<code>-</code></span>
  </div>
  <div class="field span2">
    <label for="guide-file">Guide image <span class="hint" id="guide-name">(none)</span></label>
    <div class="row">
      <input type="file" id="guide-file" accept="image/*">
      <button type="button" id="guide-clear" disabled>Clear</button>
    </div>
    <canvas id="guide-thumb" width="64" height="64" hidden aria-label="The guide image" style="width: auto; max-width: 64px; height: auto"></canvas>
    <span class="hint">With a guide and no objective, each position of the layer is pulled toward the guide's
      best-matching feature (Google's Caffe notebook).</span>
  </div>
  <div class="field"><label for="tv">TV weight</label><input type="number" id="tv" min="0" max="1000000" step="any" value="0" title="Total-variation penalty: smoother results"></div>
  <div class="field"><label for="gradient-mode">Gradient</label>
    <select id="gradient-mode" title="The tutorial's three blurs, or the TF1 notebook's Laplacian-pyramid normalisation">
      <option value="smooth">smooth (tutorial)</option><option value="laplacian">laplacian</option>
    </select></div>
  <div class="field"><label for="lap-levels">Lap. levels</label><input type="number" id="lap-levels" min="1" max="8" step="1" value="4"></div>
  <div class="field"><label for="roll">Roll px</label><input type="number" id="roll" min="0" max="1024" step="1" value="0" title="Caffe's jitter: roll each tile by up to N pixels"></div>
  <div class="field"><label for="pad">Pad px</label><input type="number" id="pad" min="0" max="512" step="1" value="0" title="Lucid's pad"></div>
  <div class="field"><label for="jitter">Jitter px</label><input type="number" id="jitter" min="0" max="512" step="1" value="0" title="Lucid's jitter"></div>
  <div class="field"><label for="scale">Scale ±</label><input type="number" id="scale" min="0" max="0.5" step="0.01" value="0" title="Lucid's random scale: 1-X to 1+X"></div>
  <div class="field"><label for="rotate">Rotate ±°</label><input type="number" id="rotate" min="0" max="180" step="1" value="0" title="Lucid's random rotate"></div>
`;

const NUMBERS = { tv: 'tv', 'lap-levels': 'lapLevels', roll: 'roll', pad: 'pad', jitter: 'jitter', scale: 'scale', rotate: 'rotate' };

/** Adds the controls at the end of `fieldset` (the settings card). onChange runs when any of them changes. */
export function mountObjectiveUI(fieldset, onChange = () => {}) {
  const box = document.createElement('div');
  box.innerHTML = FIELDS;
  fieldset.append(...box.children);
  $('guide-file').addEventListener('change', async (e) => {
    const file = e.target.files && e.target.files[0];
    if (!file) return;
    try {
      setGuide({ bitmap: await createImageBitmap(file, { imageOrientation: 'from-image' }), name: file.name });
    } catch (err) {
      setGuide(null);
      $('guide-name').textContent = `(cannot read ${file.name}: ${err.message})`;
    }
    onChange();
  });
  $('guide-clear').addEventListener('click', () => { setGuide(null); $('guide-file').value = ''; onChange(); });
  for (const id of ['objective', 'gradient-mode', ...Object.keys(NUMBERS)]) {
    $(id).addEventListener('change', onChange);
    $(id).addEventListener('input', onChange);
  }
}

function setGuide(g) {
  if (guide && guide.bitmap && (!g || g.bitmap !== guide.bitmap)) guide.bitmap.close();
  guide = g;
  $('guide-clear').disabled = !g;
  $('guide-name').textContent = g ? `${g.name} (${g.bitmap.width}×${g.bitmap.height})` : '(none)';
  const c = $('guide-thumb');
  c.hidden = !g;
  if (g) {
    const k = Math.min(64 / g.bitmap.width, 64 / g.bitmap.height);
    c.width = Math.max(1, Math.round(g.bitmap.width * k));
    c.height = Math.max(1, Math.round(g.bitmap.height * k));
    c.getContext('2d').drawImage(g.bitmap, 0, 0, c.width, c.height);
  }
}

/** The dream options these controls set; only what differs from the tutorial (so presets stay the tutorial). */
export function objectiveOptions() {
  const o = {};
  const text = $('objective').value.trim();
  if (text) o.objective = text;
  if (guide) o.guide = guide.bitmap;
  if ($('gradient-mode').value !== 'smooth') o.gradient = $('gradient-mode').value;
  for (const [id, key] of Object.entries(NUMBERS)) {
    const el = $(id);
    if (el.value === '' || !el.checkValidity()) throw new Error(`${el.labels[0].textContent.trim()}: enter a number from ${el.min} to ${el.max}`);
    const v = Number(el.value);
    if (v !== Number(el.defaultValue)) o[key] = v;
  }
  return o;
}

/** Shows the options of a dream (a resumed checkpoint's); the guide itself lives in the dream's state. */
export function applyObjectiveSettings(o = {}) {
  $('objective').value = o.objective || '';
  $('gradient-mode').value = o.gradient || 'smooth';
  for (const [id, key] of Object.entries(NUMBERS)) $(id).value = o[key] ?? $(id).defaultValue;
}

/** Whether any control differs from the tutorial. */
export function objectiveIsTutorial() {
  try { return Object.keys(objectiveOptions()).length === 0; } catch { return false; }
}
