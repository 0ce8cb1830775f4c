// Experiment dashboard: list, detail + report, creation form. Plain ES module, no dependencies.
// Talks to the gRPC JSON transcoding of recommend.v1.Experiments on the same origin. Proto3 JSON rules:
// int64 arrive as strings, default values may be absent, unset messages are absent.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

const METRICS = [
  { key: 'ctr', label: 'CTR', kind: 'rate' },
  { key: 'conversion_rate', label: 'Conversion', kind: 'rate' },
  { key: 'revenue_per_user', label: 'Revenue / user', kind: 'money' },
];
const COUNTS = [
  { key: 'users_assigned', json: 'usersAssigned', label: 'Users assigned', kind: 'count' },
  { key: 'users_exposed', json: 'usersExposed', label: 'Users exposed', kind: 'count' },
];
const EVENTS = [
  { key: 'exposures', json: 'exposures', label: 'Exposures', kind: 'count' },
  { key: 'clicks', json: 'clicks', label: 'Clicks', kind: 'count' },
  { key: 'add_to_carts', json: 'addToCarts', label: 'Add-to-carts', kind: 'count' },
  { key: 'purchases', json: 'purchases', label: 'Purchases', kind: 'count' },
  { key: 'revenue', json: 'revenue', label: 'Revenue', kind: 'money' },
];
const PALETTE = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#c026d3', '#ca8a04', '#64748b'];
const ALPHA = 0.05; // every interval in the report is 95 %
const DASH = '—';

// ---------------------------------------------------------------------------------------------------------------
// Values and formatting

/** Proto3 JSON number (int64 strings included); absent = default 0. */
const num = (v) => Number(v ?? 0);
const finite = (v) => typeof v === 'number' && Number.isFinite(v);

const countFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const moneyFmt = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

const fmt = {
  count: (v) => (finite(v) ? countFmt.format(v) : DASH),
  rate: (v) => (finite(v) ? `${(v * 100).toFixed(2)}%` : DASH),
  money: (v) => (finite(v) ? moneyFmt.format(v) : DASH),
  share: (v) => (finite(v) ? `${(v * 100).toFixed(1)}%` : DASH),
  lift(v) {
    if (!finite(v)) return DASH;
    const text = (v * 100).toFixed(1);
    if (Number(text) === 0) return '0.0%'; // avoid "-0.0%"
    return `${v > 0 ? '+' : ''}${text}%`;
  },
  p(v) {
    if (!finite(v)) return DASH;
    return v < 0.001 ? '< 0.001' : v.toFixed(3);
  },
  interval(lo, hi, f) {
    return finite(lo) && finite(hi) ? `[${f(lo)}, ${f(hi)}]` : '';
  },
  /** Compact interval of an estimate: "9.12–10.04%" (the unit once), "1.44–1.60". */
  range(lo, hi, kind) {
    if (!finite(lo) || !finite(hi)) return '';
    return kind === 'money' ? `${fmt.money(lo)}–${fmt.money(hi)}` : `${(lo * 100).toFixed(2)}–${(hi * 100).toFixed(2)}%`;
  },
};

/** "p = 0.123" or "p < 0.001". */
const pEquals = (v) => (finite(v) && v < 0.001 ? 'p < 0.001' : `p = ${fmt.p(v)}`);

function fmtTime(ts) {
  if (!ts) return DASH;
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return ts;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Proto Duration JSON ("86400s", "1.5s") → seconds, or null when absent. */
function durationSeconds(d) {
  if (d == null || d === '') return null;
  const n = Number(String(d).replace(/s$/, ''));
  return Number.isFinite(n) ? n : null;
}

function fmtDuration(d, unit) {
  const s = durationSeconds(d);
  if (s == null) return null;
  return unit === 'days' ? `${+(s / 86400).toFixed(2)} d` : `${+(s / 3600).toFixed(2)} h`;
}

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

function s(tag, attrs, ...children) {
  return build(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
}

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

/** Replaces an element's children; nested arrays and null are fine. */
function setChildren(el, ...children) {
  el.replaceChildren();
  return build(el, null, children);
}

/** A number cell of the DOM contract: data-* names the field, data-value holds Number(received). */
function numCell(attr, key, raw, text, extra = {}) {
  const { cls, sub, title } = extra;
  return h('td', { class: ['num', cls].filter(Boolean).join(' '), [attr]: key, 'data-value': String(num(raw)), title },
    text, sub ? h('span', { class: 'sub' }, sub) : null);
}

// ---------------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {}

const API_KEY = 'recommend.apiKey';

async function api(path, { method = 'GET', body } = {}) {
  const headers = body === undefined ? { Accept: 'application/json' } : { 'Content-Type': 'application/json', Accept: 'application/json' };
  const key = sessionStorage.getItem(API_KEY);
  if (key) headers['x-api-key'] = key;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError('Could not reach the API. Check that the service is running.');
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : {}; } catch { /* non-JSON body, handled below */ }
  if (res.status === 401) throw new ApiError('This server needs an API key: enter one with the experiments or reports scope above.');
  if (!res.ok) {
    throw new ApiError(data?.message || `HTTP ${res.status} ${res.statusText}`.trim());
  }
  if (data === null) throw new ApiError(`Unexpected response from ${path}`);
  return data;
}

const enc = encodeURIComponent;
const Api = {
  list: () => api('/v1/experiments'),
  get: (id) => api(`/v1/experiments/${enc(id)}`),
  create: (experiment) => api('/v1/experiments', { method: 'POST', body: { experiment } }),
  start: (id) => api(`/v1/experiments/${enc(id)}:start`, { method: 'POST', body: {} }),
  stop: (id) => api(`/v1/experiments/${enc(id)}:stop`, { method: 'POST', body: {} }),
  report(id, range) {
    const q = new URLSearchParams();
    if (range.from) q.set('from', range.from);
    if (range.to) q.set('to', range.to);
    const qs = q.toString();
    return api(`/v1/experiments/${enc(id)}/report${qs ? `?${qs}` : ''}`);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Error box

function showError(message) {
  $('#error').textContent = message;
  $('#error-box').hidden = false;
}

function clearError() {
  $('#error').textContent = '';
  $('#error-box').hidden = true;
}

// ---------------------------------------------------------------------------------------------------------------
// State and routing

const state = {
  experiments: [],
  selectedId: null,
  loadToken: 0, // guards against a slow response overwriting a newer view
};

function parseRoute() {
  const m = location.hash.match(/^#\/experiments\/(.+)$/);
  if (m) return { view: 'detail', id: decodeURIComponent(m[1]) };
  return { view: 'create' };
}

function route() {
  const r = parseRoute();
  state.selectedId = r.view === 'detail' ? r.id : null;
  $('#detail').hidden = r.view !== 'detail';
  $('#create').hidden = r.view === 'detail';
  markSelected();
  if (r.view === 'detail') {
    resetRange();
    loadDetail(r.id);
  } else {
    state.loadToken++; // drop a detail load still in flight
    delete document.body.dataset.reportReady;
    document.title = 'Experiments · Recommend';
    if (location.hash === '#/new') $('#exp-name').focus();
  }
}

const openExperiment = (id) => { location.hash = `#/experiments/${enc(id)}`; };

// ---------------------------------------------------------------------------------------------------------------
// Experiment list

const STATUS_ORDER = { running: 0, draft: 1, stopped: 2 };

async function loadList() {
  const list = $('#experiment-list');
  list.setAttribute('aria-busy', 'true');
  try {
    const data = await Api.list();
    state.experiments = (data.experiments ?? []).slice().sort(compareExperiments);
    renderList();
  } catch (e) {
    showError(e.message);
  } finally {
    list.setAttribute('aria-busy', 'false');
  }
}

function compareExperiments(a, b) {
  const sa = STATUS_ORDER[a.status] ?? 3;
  const sb = STATUS_ORDER[b.status] ?? 3;
  if (sa !== sb) return sa - sb;
  const ta = a.startedAt || a.createdAt || '';
  const tb = b.startedAt || b.createdAt || '';
  return tb.localeCompare(ta);
}

function renderList() {
  const list = $('#experiment-list');
  setChildren(list, ...state.experiments.map(listItem));
  $('#list-empty').hidden = state.experiments.length > 0;
  markSelected();
}

function listItem(e) {
  const id = e.experimentId ?? '';
  const placements = e.placements ?? [];
  return h('li', { 'data-experiment-id': id },
    h('a', { href: `#/experiments/${enc(id)}`, class: 'exp-link' },
      h('span', { class: 'exp-line' },
        h('span', { class: 'exp-name' }, e.name || id || '(unnamed)'),
        statusBadge(e.status)),
      h('span', { class: 'exp-meta' },
        h('code', {}, id), ' · ', modeLabel(e.mode), placements.length ? ` · ${placements.join(', ')}` : ''),
      h('span', { class: 'exp-meta' }, e.startedAt ? `Started ${fmtTime(e.startedAt)}` : 'Not started')));
}

function statusBadge(status, id) {
  const text = status || 'unknown';
  return h('span', { class: `status status-${text}`, id }, text);
}

const truncate = (text, n) => (String(text).length > n ? `${String(text).slice(0, n - 1)}…` : String(text));
const modeLabel = (mode) => (mode === 'interleaving' ? 'interleaving' : 'A/B');

function markSelected() {
  for (const li of $$('#experiment-list li')) {
    const on = li.dataset.experimentId === state.selectedId;
    li.classList.toggle('selected', on);
    const a = $('a', li);
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Detail

async function loadDetail(id) {
  const token = ++state.loadToken;
  delete document.body.dataset.reportReady;
  $('#detail').setAttribute('aria-busy', 'true');
  const [expResult, reportResult] = await Promise.allSettled([Api.get(id), Api.report(id, rangeQuery())]);
  if (token !== state.loadToken) return;
  $('#detail').setAttribute('aria-busy', 'false');

  if (expResult.status === 'rejected') {
    renderMissing(id);
    showError(expResult.reason.message);
    return;
  }
  const exp = expResult.value;
  renderExperiment(exp);
  if (reportResult.status === 'fulfilled') {
    renderReport(reportResult.value, exp);
  } else if (exp.status === 'draft') {
    renderReport({}, exp); // a draft may have no report yet: show the empty state, not an error
  } else {
    renderReport({}, exp);
    showError(reportResult.reason.message);
  }
}

async function reloadReport() {
  const id = state.selectedId;
  if (!id) return;
  const token = ++state.loadToken;
  delete document.body.dataset.reportReady;
  const exp = state.current;
  try {
    const report = await Api.report(id, rangeQuery());
    if (token !== state.loadToken) return;
    renderReport(report, exp);
  } catch (e) {
    if (token === state.loadToken) showError(e.message);
  }
}

function renderMissing(id) {
  state.current = null;
  $('#experiment-id').textContent = id;
  $('#experiment-name').textContent = 'Experiment not found';
  $('#experiment-description').textContent = '';
  $('#experiment-status').textContent = '';
  $('#experiment-status').className = 'status';
  $('#start-experiment').hidden = true;
  $('#stop-experiment').hidden = true;
  setChildren($('#experiment-settings'));
  setChildren($('#experiment-variants tbody'));
  renderReport({}, { experimentId: id, variants: [] }, false);
}

function renderExperiment(exp) {
  state.current = exp;
  const status = exp.status || 'unknown';
  document.title = `${exp.name || exp.experimentId} · Experiments`;
  $('#experiment-id').textContent = exp.experimentId ?? '';
  $('#experiment-name').textContent = exp.name || exp.experimentId || '(unnamed)';
  $('#experiment-description').textContent = exp.description ?? '';
  const badge = $('#experiment-status');
  badge.textContent = status;
  badge.className = `status status-${status}`;
  $('#start-experiment').hidden = status !== 'draft';
  $('#stop-experiment').hidden = status !== 'running';
  renderSettings(exp);
  renderVariantSettings(exp);
  setRangeBounds(exp);
}

function renderSettings(exp) {
  const rows = [
    ['Mode', modeLabel(exp.mode)],
    ['Placements', (exp.placements ?? []).join(', ') || DASH],
    ['Attribution window', fmtDuration(exp.attributionWindow, 'hours') ?? '24 h (default)'],
    ['Created', fmtTime(exp.createdAt)],
    ['Started', fmtTime(exp.startedAt)],
    ['Stopped', fmtTime(exp.stoppedAt)],
  ];
  setChildren($('#experiment-settings'), ...rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

function renderVariantSettings(exp) {
  const variants = exp.variants ?? [];
  const total = variants.reduce((sum, v) => sum + num(v.weight), 0);
  const interleaving = exp.mode === 'interleaving';
  setChildren($('#experiment-variants tbody'), ...variants.map((v) => h('tr', {},
    h('th', { scope: 'row' }, v.name, v.control ? h('span', { class: 'tag' }, 'control') : null),
    h('td', { class: 'num' }, interleaving ? DASH : String(num(v.weight))),
    h('td', { class: 'num' }, interleaving ? 'interleaved' : total > 0 ? fmt.share(num(v.weight) / total) : DASH),
    h('td', { class: 'profile' }, profileSummary(v.profile)))));
}

function profileSummary(p) {
  if (!p) return h('span', { class: 'muted' }, 'default profile');
  const parts = [
    ['similarity', p.similarityWeight],
    ['co-purchase', p.coPurchaseWeight],
    ['trending', p.trendingWeight],
    ['diversity λ', p.diversityLambda],
    ['half-life', fmtDuration(p.profileHalfLife, 'days')],
    ['interactions', p.profileInteractions],
    ['context', p.contextWeight],
    ['sources', p.candidateSources?.length ? p.candidateSources.join(', ') : null],
  ].filter(([, v]) => v != null && v !== '');
  if (!parts.length) return h('span', { class: 'muted' }, 'default profile');
  return parts.map(([k, v]) => h('span', { class: 'kv' }, h('span', { class: 'k' }, k), ' ', String(v)));
}

async function changeStatus(action) {
  const id = state.selectedId;
  if (!id) return;
  clearError();
  const buttons = [$('#start-experiment'), $('#stop-experiment')];
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await (action === 'start' ? Api.start(id) : Api.stop(id));
    await Promise.all([loadDetail(id), loadList()]);
  } catch (e) {
    showError(e.message);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Date range (UTC days; the "to" day is included, so the query ends at the next midnight)

function rangeQuery() {
  const from = $('#report-from').value;
  const to = $('#report-to').value;
  return {
    from: from ? `${from}T00:00:00Z` : null,
    to: to ? new Date(Date.parse(`${to}T00:00:00Z`) + 86400000).toISOString().replace('.000Z', 'Z') : null,
  };
}

function resetRange() {
  $('#report-from').value = '';
  $('#report-to').value = '';
}

function setRangeBounds(exp) {
  const start = exp.startedAt ? exp.startedAt.slice(0, 10) : '';
  const end = (exp.stoppedAt || new Date().toISOString()).slice(0, 10);
  for (const input of [$('#report-from'), $('#report-to')]) {
    input.min = start;
    input.max = end;
  }
}

function applyRange(event) {
  event?.preventDefault();
  const from = $('#report-from').value;
  const to = $('#report-to').value;
  if (from && to && from > to) {
    showError('from: must not be after to');
    return;
  }
  clearError();
  reloadReport();
}

// ---------------------------------------------------------------------------------------------------------------
// Report

/** Which p-value the report leads with, from the server's note: whichever kind the note names first. */
function leadKind(note) {
  const text = note ?? '';
  const av = text.search(/always[- ]?valid|msprt/i);
  const fh = text.search(/fixed[- ]?horizon/i);
  if (fh >= 0 && (av < 0 || fh < av)) return 'fixed';
  return 'always';
}

/** The lead and secondary p-value / interval of a Lift. */
function liftParts(lift, kind) {
  const always = { label: 'always-valid', p: num(lift.alwaysValidPValue), ci: lift.alwaysValid ?? lift.relative ?? {} };
  const fixed = { label: 'fixed-horizon', p: num(lift.pValue), ci: lift.relative ?? {} };
  return kind === 'fixed' ? { lead: fixed, other: always } : { lead: always, other: fixed };
}

function significance(value, p) {
  if (!finite(p) || !finite(value) || p >= ALPHA || value === 0) return 'none';
  return value > 0 ? 'pos' : 'neg';
}

/** Report variants, or the experiment's variants with zero counts when the report has none yet. */
function reportVariants(report, exp) {
  if (report.variants?.length) return report.variants;
  return (exp?.variants ?? []).map((v) => ({ name: v.name, control: v.control, weight: v.weight, metrics: [] }));
}

function renderReport(report, exp, markReady = true) {
  const kind = leadKind(report.pValueNote);
  const variants = reportVariants(report, exp);
  const control = variants.find((v) => v.control);
  renderSrm(report.srm, variants);
  renderMeta(report);
  renderMetricsTable(variants, control, kind);
  $('#p-value-note').textContent = report.pValueNote
    ? `p-values: ${report.pValueNote}`
    : 'p-values: always-valid (mSPRT) shown first; fixed-horizon p-values are valid only when read once, at the planned end.';
  state.redrawLift = () => renderLiftBars($('#lift-bars'), variants, control, kind);
  state.redrawLift();
  renderDaily(report.daily ?? [], variants);
  renderInterleaving(report.interleaving);
  if (markReady) document.body.dataset.reportReady = exp?.experimentId || state.selectedId || '';
}

function renderMeta(report) {
  const parts = [];
  if (report.from || report.to) parts.push(`Data ${fmtTime(report.from)} → ${fmtTime(report.to)}`);
  if (report.computedAt) parts.push(`computed ${fmtTime(report.computedAt)}`);
  $('#report-meta').textContent = parts.join(' · ');
}

function renderSrm(srm, variants) {
  const banner = $('#srm-banner');
  if (!srm?.alarm) {
    banner.hidden = true;
    setChildren(banner);
    return;
  }
  const expected = srm.expectedShare ?? [];
  const observed = srm.observedShare ?? [];
  const shares = variants.map((v, i) => `${v.name}: expected ${fmt.share(num(expected[i]))}, observed ${fmt.share(num(observed[i]))}`);
  setChildren(banner,
    h('strong', { class: 'srm-title' }, 'Sample ratio mismatch — the traffic split is broken. Do not trust these results.'),
    h('span', {}, `The observed split differs from the configured weights (χ² = ${num(srm.chiSquare).toFixed(2)}, ${pEquals(num(srm.pValue))}, alarm below p = ${num(srm.threshold)}). `,
      'Lifts and p-values below are biased; fix assignment or exposure logging before deciding anything.'),
    h('span', { class: 'srm-shares' }, shares.join(' · ')));
  banner.hidden = false;
}

// Metric table ---------------------------------------------------------------------------------------------------

function renderMetricsTable(variants, control, kind) {
  const table = $('#metrics');
  setChildren($('thead', table), ...metricsHead(kind));
  const hasCuped = variants.some((v) => (v.metrics ?? []).some((m) => m.cupedEstimate));
  const rows = [];
  for (const v of variants) {
    rows.push(variantRow(v, control, kind));
    if (hasCuped) rows.push(cupedRow(v, control, kind));
  }
  if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: 1 + COUNTS.length + METRICS.length * 3 + EVENTS.length, class: 'empty' }, 'No variants.')));
  setChildren($('tbody', table), ...rows);
}

// Column order: the decision columns (metrics, lifts, p) first, then traffic and raw event counts.
function metricsHead(kind) {
  const pSub = kind === 'fixed' ? 'fixed-horizon' : 'always-valid';
  return [
    h('tr', {},
      h('th', { scope: 'col', rowspan: 2 }, 'Variant'),
      METRICS.map((m) => h('th', { scope: 'colgroup', colspan: 3, class: 'group' }, m.label)),
      h('th', { scope: 'colgroup', colspan: COUNTS.length, class: 'group' }, 'Traffic'),
      h('th', { scope: 'colgroup', colspan: EVENTS.length, class: 'group' }, 'Attributed events')),
    h('tr', {},
      METRICS.map(() => [
        h('th', { scope: 'col', class: 'num', title: 'Estimate with 95 % confidence interval' }, 'Estimate'),
        h('th', { scope: 'col', class: 'num', title: 'Relative lift vs control with 95 % interval' }, 'Lift'),
        h('th', { scope: 'col', class: 'num', title: `p-value, ${pSub} first` }, 'p', h('span', { class: 'sub' }, pSub)),
      ]),
      COUNTS.map((c) => h('th', { scope: 'col', class: 'num' }, c.label)),
      EVENTS.map((c) => h('th', { scope: 'col', class: 'num' }, c.label))),
  ];
}

const metricOf = (v, key) => (v.metrics ?? []).find((m) => m.metric === key);
const hasTraffic = (v) => !!v && num(v.usersExposed) > 0;
const fmtMetric = (kind, v) => (kind === 'money' ? fmt.money(v) : fmt.rate(v));

function variantRow(v, control, kind) {
  const isControl = !!v.control;
  const tr = h('tr', { 'data-variant': v.name ?? '', class: isControl ? 'control' : null, 'data-control': isControl ? 'true' : null });
  tr.append(h('th', { scope: 'row' }, v.name, isControl ? h('span', { class: 'tag' }, 'control') : null));
  for (const m of METRICS) tr.append(...metricCells(v, control, m, kind, false));
  for (const c of [...COUNTS, ...EVENTS]) tr.append(numCell('data-field', c.key, v[c.json], fmt[c.kind](num(v[c.json]))));
  return tr;
}

/** Estimate, lift and p cells of one metric; `cuped` switches to the CUPED fields and attribute names. */
function metricCells(v, control, m, kind, cuped) {
  const r = metricOf(v, m.key) ?? {};
  const est = (cuped ? r.cupedEstimate : r.estimate) ?? {};
  const lift = cuped ? r.cupedLift : r.lift;
  const prefix = cuped ? 'data-cuped-' : 'data-';
  const shown = hasTraffic(v) && (!cuped || r.cupedEstimate);
  const estCell = numCell(`${prefix}metric`, m.key, est.value, shown ? fmtMetric(m.kind, num(est.value)) : DASH, {
    sub: shown ? fmt.range(num(est.ciLow), num(est.ciHigh), m.kind) : null,
  });
  if (v.control) {
    return [estCell, h('td', { class: 'num muted' }, cuped ? '' : 'baseline'), h('td', { class: 'num muted' })];
  }
  const comparable = shown && hasTraffic(control) && lift;
  const parts = liftParts(lift ?? {}, kind);
  const value = num(lift?.relative?.value);
  const sig = comparable ? significance(value, parts.lead.p) : 'none';
  const liftCell = numCell(`${prefix}lift`, m.key, lift?.relative?.value, comparable ? fmt.lift(value) : DASH, {
    cls: `sig-${sig}`,
    sub: comparable ? fmt.interval(num(parts.lead.ci.ciLow), num(parts.lead.ci.ciHigh), fmt.lift) : null,
    title: comparable ? `${parts.lead.label} interval; ${parts.other.label}: ${fmt.interval(num(parts.other.ci.ciLow), num(parts.other.ci.ciHigh), fmt.lift)}` : null,
  });
  const pCell = numCell(`${prefix}p`, m.key, parts.lead.p, comparable ? fmt.p(parts.lead.p) : DASH, {
    cls: `sig-${sig}`,
    sub: comparable ? `${parts.other.label === 'fixed-horizon' ? 'fixed' : 'always-valid'} ${fmt.p(parts.other.p)}` : null,
    title: comparable ? `${parts.lead.label} ${pEquals(parts.lead.p)}; ${parts.other.label} ${pEquals(parts.other.p)}` : null,
  });
  return [estCell, liftCell, pCell];
}

function cupedRow(v, control, kind) {
  const tr = h('tr', { class: 'cuped', 'data-cuped-for': v.name ?? '' });
  const reductions = METRICS.map((m) => [m, metricOf(v, m.key)])
    .filter(([, r]) => r?.cupedEstimate)
    .map(([m, r]) => h('span', { class: 'kv', 'data-cuped-vr': m.key, 'data-value': String(num(r.cupedVarianceReduction)) },
      h('span', { class: 'k' }, m.label), ` ${fmt.share(num(r.cupedVarianceReduction))}`));
  tr.append(h('th', { scope: 'row', class: 'cuped-label', title: 'CUPED: adjusted with pre-experiment behaviour as covariate' }, 'CUPED'));
  for (const m of METRICS) {
    if (metricOf(v, m.key)?.cupedEstimate) tr.append(...metricCells(v, control, m, kind, true));
    else tr.append(h('td', { class: 'num muted' }), h('td', { class: 'num muted' }), h('td', { class: 'num muted' }));
  }
  tr.append(h('td', { colspan: COUNTS.length + EVENTS.length, class: 'cuped-vr' },
    reductions.length ? ['Variance reduction: ', reductions] : null));
  return tr;
}

// Lift bars -----------------------------------------------------------------------------------------------------

function liftRows(variants, control, kind) {
  const rows = [];
  if (!hasTraffic(control)) return rows;
  for (const v of variants) {
    if (v.control || !hasTraffic(v)) continue;
    for (const m of METRICS) {
      const lift = metricOf(v, m.key)?.lift;
      if (!lift) continue;
      const { lead, other } = liftParts(lift, kind);
      const value = num(lift.relative?.value);
      const row = {
        label: `${truncate(v.name, 18)} · ${m.label}`, value, p: lead.p, leadLabel: lead.label,
        lead: [num(lead.ci.ciLow), num(lead.ci.ciHigh)], other: [num(other.ci.ciLow), num(other.ci.ciHigh)],
      };
      if ([value, ...row.lead].every(finite)) rows.push({ ...row, sig: significance(value, lead.p) });
    }
  }
  return rows;
}

function renderLiftBars(svg, variants, control, kind) {
  const rows = liftRows(variants, control, kind);
  // Drawn at the element's own width so text keeps its size when the layout widens.
  const W = Math.round(Math.min(Math.max(svg.clientWidth || 900, 640), 1600));
  const rowH = 34; const top = 30; const left = 220; const right = 190;
  const H = Math.max(120, top + rows.length * rowH + 16);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  if (!rows.length) {
    setChildren(svg, emptyText(W, H, 'No lift yet — needs exposed users in the control and a treatment.'));
    return;
  }
  const values = rows.flatMap((r) => [...r.lead, ...r.other.filter(finite), r.value, 0]);
  let [lo, hi] = [Math.min(...values), Math.max(...values)];
  const pad = (hi - lo) * 0.08 || 0.05;
  lo -= pad; hi += pad;
  const x = (v) => left + ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * (W - left - right);
  const ticks = niceTicks(lo, hi, 6);
  const nodes = [
    ticks.map((t) => [
      s('line', { x1: x(t), x2: x(t), y1: top - 6, y2: H - 10, class: 'grid' }),
      s('text', { x: x(t), y: top - 12, 'text-anchor': 'middle', class: 'tick' }, fmt.lift(t)),
    ]),
    s('line', { x1: x(0), x2: x(0), y1: top - 6, y2: H - 10, class: 'zero' }),
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH + rowH / 2;
    const cls = `sig-${r.sig}`;
    nodes.push(s('g', { class: `lift-row ${cls}` },
      s('title', {}, `${r.label}: ${fmt.lift(r.value)} ${fmt.interval(...r.lead, fmt.lift)} (${r.leadLabel}), ${pEquals(r.p)}`),
      s('text', { x: left - 12, y: y + 4, 'text-anchor': 'end', class: 'label' }, r.label),
      r.other.every(finite) ? s('line', { x1: x(r.other[0]), x2: x(r.other[1]), y1: y, y2: y, class: 'whisker' }) : null,
      s('rect', { x: x(r.lead[0]), y: y - 7, width: Math.max(2, x(r.lead[1]) - x(r.lead[0])), height: 14, rx: 3, class: 'bar' }),
      s('circle', { cx: x(r.value), cy: y, r: 5, class: 'point' }),
      s('text', { x: W - right + 14, y: y + 4, class: 'value' }, `${fmt.lift(r.value)} · ${pEquals(r.p)}`)));
  });
  setChildren(svg, nodes, liftLegend(W, right, rows[0].leadLabel));
}

function liftLegend(W, right, leadLabel) {
  const other = leadLabel === 'fixed-horizon' ? 'always-valid' : 'fixed-horizon';
  return s('g', { class: 'legend', transform: `translate(${W - right + 14}, 10)` },
    s('rect', { x: 0, y: -4, width: 14, height: 8, rx: 2, class: 'legend-bar' }),
    s('text', { x: 20, y: 3, class: 'tick' }, `${leadLabel} 95 % interval`),
    s('line', { x1: 0, x2: 14, y1: 14, y2: 14, class: 'legend-line' }),
    s('text', { x: 20, y: 17, class: 'tick' }, `${other} interval`));
}

// Daily line charts ---------------------------------------------------------------------------------------------

function renderDaily(daily, variants) {
  const names = [...new Set([...variants.map((v) => v.name), ...daily.map((d) => d.variant)])].filter((n) => n != null);
  const days = [...new Set(daily.map((d) => d.day).filter(Boolean))].sort();
  const color = (name) => PALETTE[names.indexOf(name) % PALETTE.length];
  const seriesOf = (field) => names.map((name) => {
    const byDay = new Map(daily.filter((d) => d.variant === name).map((d) => [d.day, num(d[field])]));
    return { name, color: color(name), values: days.map((d) => byDay.get(d) ?? 0) };
  });
  lineChart($('#daily-exposures'), days, seriesOf('exposures'), 'Exposures');
  lineChart($('#daily-conversions'), days, seriesOf('purchases'), 'Purchases');
}

function lineChart(svg, days, series, unit) {
  const W = 560; const H = 260;
  const m = { l: 52, r: 14, t: 34, b: 36 };
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  const max = Math.max(0, ...series.flatMap((sr) => sr.values));
  if (!days.length || max === 0) {
    setChildren(svg, emptyText(W, H, 'No data yet'));
    return;
  }
  const ticks = niceTicks(0, max, 5, true);
  const yMax = ticks[ticks.length - 1];
  const step = days.length > 1 ? (W - m.l - m.r) / (days.length - 1) : 0;
  const x = (i) => (days.length > 1 ? m.l + i * step : (m.l + W - m.r) / 2);
  const y = (v) => H - m.b - (v / yMax) * (H - m.t - m.b);
  const labelled = labelIndexes(days.length);
  setChildren(svg,
    s('g', { class: 'y-axis' }, ticks.map((t) => [
      s('line', { x1: m.l, x2: W - m.r, y1: y(t), y2: y(t), class: t === 0 ? 'axis' : 'grid' }),
      s('text', { x: m.l - 8, y: y(t) + 4, 'text-anchor': 'end', class: 'tick' }, compact(t)),
    ])),
    s('g', { class: 'x-axis' },
      s('line', { x1: m.l, x2: m.l, y1: m.t - 4, y2: H - m.b, class: 'axis' }),
      days.map((d, i) => (labelled.has(i)
        ? [s('line', { x1: x(i), x2: x(i), y1: H - m.b, y2: H - m.b + 4, class: 'axis' }),
          s('text', { x: x(i), y: H - m.b + 18, 'text-anchor': 'middle', class: 'tick' }, d.slice(5))]
        : null)),
      s('text', { x: W - m.r, y: H - 4, 'text-anchor': 'end', class: 'tick muted' }, 'UTC day')),
    series.map((sr) => s('g', { class: 'series' },
      s('polyline', { points: sr.values.map((v, i) => `${x(i)},${y(v)}`).join(' '), fill: 'none', stroke: sr.color, 'stroke-width': 2 }),
      sr.values.map((v, i) => s('circle', { cx: x(i), cy: y(v), r: days.length > 40 ? 1.5 : 3, fill: sr.color },
        s('title', {}, `${days[i]} · ${sr.name}: ${fmt.count(v)} ${unit.toLowerCase()}`))))),
    legend(series, m.l, 14));
}

/** At most ~max evenly spaced date labels; the last day always gets one. */
function labelIndexes(n, max = 7) {
  const every = Math.ceil(n / max);
  const idx = [];
  for (let i = 0; i < n; i += every) idx.push(i);
  if (idx[idx.length - 1] !== n - 1) {
    if (n - 1 - idx[idx.length - 1] < every * 0.75) idx.pop(); // would crowd the last label
    idx.push(n - 1);
  }
  return new Set(idx);
}

function legend(series, x0, y0) {
  let x = x0;
  const items = series.map((sr) => {
    const g = s('g', { transform: `translate(${x}, ${y0})`, class: 'legend-item' },
      s('rect', { x: 0, y: -2, width: 14, height: 4, rx: 1, fill: sr.color }),
      s('text', { x: 20, y: 4, class: 'tick' }, sr.name));
    x += 34 + String(sr.name).length * 7;
    return g;
  });
  return s('g', { class: 'legend' }, items);
}

function emptyText(W, H, text) {
  return s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'empty-text' }, text);
}

/** Round axis ticks from lo to hi; integer steps for counts. */
function niceTicks(lo, hi, count, integer = false) {
  const span = hi - lo || 1;
  const raw = span / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((st) => st >= raw) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks = [];
  for (let t = first; t <= hi + step * 1e-9; t += step) ticks.push(+t.toFixed(10));
  if (integer && ticks[ticks.length - 1] < hi) ticks.push(ticks[ticks.length - 1] + step);
  return ticks;
}

function compact(v) {
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${+(v / 1e3).toFixed(1)}k`;
  return fmt.count(v);
}

// Interleaving ---------------------------------------------------------------------------------------------------

function renderInterleaving(il) {
  const section = $('#interleaving');
  section.hidden = !il;
  if (!il) {
    setChildren($('#interleaving-body'));
    return;
  }
  const a = il.teamA || 'A';
  const b = il.teamB || 'B';
  const cell = (key, raw) => h('td', { class: 'num', 'data-field': key, 'data-value': String(num(raw)) }, fmt.count(num(raw)));
  const table = h('table', { class: 'data interleaving-table' },
    h('caption', { class: 'visually-hidden' }, 'Credited events and preferring users per team'),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Team'), h('th', { scope: 'col', class: 'num' }, 'Credited clicks'),
      h('th', { scope: 'col', class: 'num' }, 'Credited purchases'), h('th', { scope: 'col', class: 'num' }, 'Users preferring'))),
    h('tbody', {},
      h('tr', { 'data-team': a }, h('th', { scope: 'row' }, a), cell('clicks_a', il.clicksA), cell('purchases_a', il.purchasesA), cell('users_preferring_a', il.usersPreferringA)),
      h('tr', { 'data-team': b }, h('th', { scope: 'row' }, b), cell('clicks_b', il.clicksB), cell('purchases_b', il.purchasesB), cell('users_preferring_b', il.usersPreferringB)),
      h('tr', {}, h('th', { scope: 'row' }, 'Tied users'), h('td'), h('td'), cell('users_tied', il.usersTied))));

  const pref = il.preferenceB ?? {};
  const preferring = num(il.usersPreferringA) + num(il.usersPreferringB);
  const has = preferring > 0;
  const winner = il.winner
    ? h('strong', { class: 'winner' }, `${il.winner} wins`)
    : h('span', { class: 'muted' }, has ? `No winner yet (p ≥ ${ALPHA})` : 'No winner yet — no preferring users');
  const summary = h('dl', { class: 'settings' },
    h('div', {}, h('dt', {}, `Preference for ${b}`),
      h('dd', { 'data-field': 'preference_b', 'data-value': String(num(pref.value)) },
        has ? `${fmt.share(num(pref.value))} ` : DASH,
        has ? h('span', { class: 'sub' }, fmt.interval(num(pref.ciLow), num(pref.ciHigh), fmt.share)) : null)),
    h('div', {}, h('dt', {}, 'p-value (sign test)'),
      h('dd', { 'data-field': 'p_value', 'data-value': String(num(il.pValue)) }, has ? fmt.p(num(il.pValue)) : DASH)),
    h('div', {}, h('dt', {}, 'Winner'), h('dd', { id: 'interleaving-winner', 'data-winner': il.winner ?? '' }, winner)));
  setChildren($('#interleaving-body'), h('div', { class: 'interleaving-grid' }, table, summary), preferenceBar(a, b, pref, has));
}

/** 0..100 % bar with the 50 % line: where B's preference share and its CI sit. */
function preferenceBar(a, b, pref, has) {
  const W = 900; const H = 56; const l = 40; const r = 40;
  const x = (v) => l + Math.min(Math.max(v, 0), 1) * (W - l - r);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart preference', role: 'img', 'aria-label': `Share of preferring users who prefer ${b}` });
  if (!has) {
    svg.append(emptyText(W, H, 'No preferring users yet'));
    return svg;
  }
  const v = num(pref.value);
  svg.append(
    s('rect', { x: l, y: 18, width: W - l - r, height: 14, rx: 7, class: 'track' }),
    s('rect', { x: x(num(pref.ciLow)), y: 18, width: Math.max(2, x(num(pref.ciHigh)) - x(num(pref.ciLow))), height: 14, rx: 7, class: 'ci' }),
    s('line', { x1: x(0.5), x2: x(0.5), y1: 10, y2: 40, class: 'zero' }),
    s('circle', { cx: x(v), cy: 25, r: 6, class: 'point' }),
    s('text', { x: l, y: 52, class: 'tick' }, `← prefers ${a}`),
    s('text', { x: W - r, y: 52, 'text-anchor': 'end', class: 'tick' }, `prefers ${b} →`),
    s('text', { x: x(0.5), y: 52, 'text-anchor': 'middle', class: 'tick' }, '50 %'));
  return svg;
}

// ---------------------------------------------------------------------------------------------------------------
// Creation form

let rowSeq = 0;

function addVariantRow(defaults = {}) {
  const frag = $('#variant-row-template').content.cloneNode(true);
  const row = $('.variant-row', frag);
  const key = `v${++rowSeq}`;
  row.dataset.row = key;
  $('[name="variant-name"]', row).value = defaults.name ?? '';
  $('[name="variant-control"]', row).value = key;
  $('[name="variant-control"]', row).checked = !!defaults.control;
  $('.remove-variant', row).addEventListener('click', () => { row.remove(); syncVariantRows(); });
  $('#variant-rows').append(row);
  syncVariantRows();
  return row;
}

function syncVariantRows() {
  const rows = $$('#variant-rows .variant-row');
  const interleaving = $('#exp-mode').value === 'interleaving';
  rows.forEach((row, i) => {
    const name = $('[name="variant-name"]', row).value.trim();
    $('.variant-legend', row).textContent = `Variant ${i + 1}${name ? ` · ${name}` : ''}`;
    $('.remove-variant', row).disabled = rows.length <= 1;
    $('[name="variant-weight"]', row).disabled = interleaving;
  });
  $('#mode-hint').textContent = interleaving
    ? 'Interleaving needs exactly two variants; every answer mixes both rankings, so weights are ignored.'
    : "Weights set each variant's share of traffic. Exactly one variant is the control.";
}

function resetCreateForm() {
  $('#create-experiment').reset();
  setChildren($('#variant-rows'));
  addVariantRow({ name: 'A', control: true });
  addVariantRow({ name: 'B' });
}

/** Reads the form into a proto3-JSON Experiment; empty profile inputs stay unset. */
function readExperiment() {
  const interleaving = $('#exp-mode').value === 'interleaving';
  const exp = {
    name: $('#exp-name').value.trim(),
    description: $('#exp-description').value.trim(),
    placements: $('#exp-placements').value.split(',').map((p) => p.trim()).filter(Boolean),
    mode: $('#exp-mode').value,
    variants: $$('#variant-rows .variant-row').map((row) => readVariant(row, interleaving)),
  };
  const id = $('#exp-id').value.trim();
  if (id) exp.experimentId = id;
  const hours = numberInput($('#exp-window'), 'attribution window');
  if (hours != null) exp.attributionWindow = `${Math.round(hours * 3600)}s`;
  return exp;
}

function readVariant(row, interleaving) {
  const field = (name) => $(`[name="${name}"]`, row);
  const v = { name: field('variant-name').value.trim(), control: field('variant-control').checked };
  const weight = interleaving ? null : numberInput(field('variant-weight'), 'weight');
  if (weight != null) v.weight = weight;
  const profile = {};
  const doubles = [['similarity_weight', 'similarityWeight'], ['co_purchase_weight', 'coPurchaseWeight'],
    ['trending_weight', 'trendingWeight'], ['learned_weight', 'learnedWeight'], ['buy_again_weight', 'buyAgainWeight'],
    ['diversity_lambda', 'diversityLambda'], ['context_weight', 'contextWeight']];
  for (const [name, json] of doubles) {
    const n = numberInput(field(name), name.replaceAll('_', ' '));
    if (n != null) profile[json] = n;
  }
  const days = numberInput(field('profile_half_life_days'), 'profile half-life');
  if (days != null) profile.profileHalfLife = `${Math.round(days * 86400)}s`;
  const interactions = numberInput(field('profile_interactions'), 'profile interactions');
  if (interactions != null) profile.profileInteractions = Math.trunc(interactions);
  const sources = $$('[name="candidate_sources"]:checked', row).map((c) => c.value);
  if (sources.length) profile.candidateSources = sources;
  if (Object.keys(profile).length) v.profile = profile;
  return v;
}

/** A number input's value, null when empty; throws when the browser holds text it cannot parse. */
function numberInput(input, label) {
  if (input.validity?.badInput) throw new Error(`${label}: not a number`);
  const text = input.value.trim();
  if (text === '') return null;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`${label}: not a number`);
  return n;
}

async function submitCreate(event) {
  event.preventDefault();
  clearError();
  const button = $('#create-submit');
  let exp;
  try {
    exp = readExperiment();
  } catch (e) {
    showError(e.message);
    return;
  }
  button.disabled = true;
  try {
    const created = await Api.create(exp);
    resetCreateForm();
    await loadList();
    openExperiment(created.experimentId);
  } catch (e) {
    showError(e.message);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wiring

function toggleList() {
  const collapsed = document.body.classList.toggle('list-collapsed');
  const btn = $('#toggle-list');
  btn.textContent = collapsed ? 'Show list' : 'Hide list';
  btn.setAttribute('aria-expanded', String(!collapsed));
  $('#sidebar').hidden = collapsed;
  state.redrawLift?.();
}

function init() {
  $('#error-dismiss').addEventListener('click', clearError);
  $('#toggle-list').addEventListener('click', toggleList);
  $('#refresh-list').addEventListener('click', () => { clearError(); loadList(); });
  $('#start-experiment').addEventListener('click', () => changeStatus('start'));
  $('#stop-experiment').addEventListener('click', () => changeStatus('stop'));
  $('#report-range').addEventListener('submit', applyRange);
  $('#report-from').addEventListener('change', () => applyRange());
  $('#report-to').addEventListener('change', () => applyRange());
  $('#report-clear').addEventListener('click', () => { resetRange(); clearError(); reloadReport(); });
  $('#create-experiment').addEventListener('submit', submitCreate);
  $('#add-variant').addEventListener('click', () => $('[name="variant-name"]', addVariantRow()).focus());
  $('#variant-rows').addEventListener('input', syncVariantRows);
  $('#exp-mode').addEventListener('change', syncVariantRows);
  window.addEventListener('hashchange', () => { clearError(); route(); });
  $('#api-key').value = sessionStorage.getItem(API_KEY) || '';
  $('#api-key').addEventListener('change', (e) => {
    if (e.target.value) sessionStorage.setItem(API_KEY, e.target.value); else sessionStorage.removeItem(API_KEY);
    clearError(); loadList(); route(); // the views again, with the key
  });
  let resizeTimer;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => state.redrawLift?.(), 150);
  });
  resetCreateForm();
  loadList();
  route();
}

init();
