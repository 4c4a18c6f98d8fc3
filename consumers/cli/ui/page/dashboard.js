// The dashboard page: the live pipeline (under `shardline dev`) and, per project and range, one
// chart per named query of schemas/queries/, fetched from /api/query/<name>. Every chart writes
// the labels and series it draws into its figure's data-chart attribute, so that what the page
// shows can be compared with what the query returned.
/* global Chart */

const COLORS = ['#3867d6', '#eb3b5a', '#20bf6b', '#f7b731', '#8854d0', '#0fb9b1', '#fa8231', '#4b6584'];
const endpointOf = (r) => `${r.method} ${r.endpoint}`;

/** How each named query is drawn: its extra parameters, the labels and the series. */
const CHARTS = {
  requests_per_minute: {
    type: 'line',
    label: (r) => r.minute,
    series: [
      ['requests', 'requests'],
      ['errors', 'errors'],
    ],
    tick: (v) => String(v).slice(11, 16),
  },
  latency_by_endpoint: {
    type: 'bar',
    params: { limit: '10' },
    label: endpointOf,
    series: [
      ['p50_ms', 'p50 ms'],
      ['p95_ms', 'p95 ms'],
      ['p99_ms', 'p99 ms'],
    ],
  },
  error_rate_by_status_class: {
    type: 'bar',
    label: (r) => r.status_class,
    series: [['requests', 'requests']],
  },
  top_endpoints: {
    type: 'bar',
    horizontal: true,
    params: { limit: '10' },
    label: endpointOf,
    series: [
      ['requests', 'requests'],
      ['errors', 'errors'],
    ],
  },
  top_consumers: {
    type: 'bar',
    horizontal: true,
    params: { limit: '10' },
    label: (r) => r.consumer,
    series: [
      ['requests', 'requests'],
      ['errors', 'errors'],
    ],
  },
  countries: {
    type: 'bar',
    params: { limit: '15' },
    label: (r) => r.country,
    series: [['requests', 'requests']],
  },
  browsers: {
    type: 'bar',
    params: { limit: '10' },
    label: (r) => r.browser,
    series: [['requests', 'requests']],
  },
  best_practice_failures: {
    type: 'bar',
    horizontal: true,
    label: endpointOf,
    series: [['requests', 'requests']],
    table: ['method', 'endpoint', 'requests', 'failed_checks', 'p95_ms', 'server_error_rate'],
  },
};

const charts = new Map();
const $ = (id) => document.getElementById(id);

const getJson = async (url) => {
  const res = await fetch(url);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `${res.status}`);
  return body;
};

const draw = (figure, key, config) => {
  charts.get(key)?.destroy();
  const chart = new Chart(figure.querySelector('canvas'), config);
  charts.set(key, chart);
  return chart;
};

/** Records what a chart draws, as data, on its figure. */
const expose = (figure, chart, rows) => {
  figure.dataset.chart = JSON.stringify({
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data })),
  });
  figure.dataset.rows = String(rows);
};

const state = () => ({ project: $('project').value, from: $('from').value.trim(), to: $('to').value.trim() });

const UNIT_MS = { s: 1_000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `now`, a duration ago (`-1h`, `2d`) or an ISO time (UTC unless it names a zone) → an ISO time,
 * as the server's resolveTime does. Anything else is sent as typed, for the server to refuse.
 */
const RELATIVE = /^-?(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)$/;
const isRelative = (text) => text === 'now' || RELATIVE.test(text);
const resolveTime = (text, now) => {
  if (text === 'now') return now.toISOString();
  const relative = RELATIVE.exec(text);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNIT_MS[relative[2]]).toISOString();
  const withZone = /[zZ]|[+-]\d\d:?\d\d$/.test(text) || /^\d{4}-\d\d-\d\d$/.test(text) ? text : `${text}Z`;
  const ms = Date.parse(withZone.replace(' ', 'T'));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : text;
};

/**
 * The range of one refresh, resolved once against one clock reading, so that every chart of a
 * refresh covers the same absolute range however long its query takes.
 */
const resolvedState = () => {
  const s = state();
  const now = new Date();
  return {
    ...s,
    from: resolveTime(s.from, now),
    to: resolveTime(s.to, now),
    relative: isRelative(s.from) || isRelative(s.to),
    typed: { from: s.from, to: s.to },
  };
};

const saveState = () => {
  const s = state();
  history.replaceState(null, '', `#${new URLSearchParams(s)}`);
};

const loadProjects = async () => {
  const { from, to } = resolvedState();
  const wanted = new URLSearchParams(location.hash.slice(1)).get('project') || $('project').value;
  const result = await getJson(`/api/query/top_projects?${new URLSearchParams({ from, to, limit: '100' })}`);
  const ids = result.rows.map((r) => r.project_id);
  if (wanted && !ids.includes(wanted)) ids.unshift(wanted);
  $('project').replaceChildren(...ids.map((id) => new Option(id, id, false, id === wanted)));
  if (!wanted && ids.length > 0) $('project').value = ids[0];
};

const renderQuery = async (figure, generation, range) => {
  const name = figure.dataset.query;
  const spec = CHARTS[name];
  figure.dataset.state = 'loading';
  const { project, from, to } = range;
  const params = new URLSearchParams({ project, from, to, ...(spec.params ?? {}) });
  let result;
  try {
    result = await getJson(`/api/query/${name}?${params}`);
  } catch (e) {
    figure.dataset.state = 'error';
    figure.querySelector('figcaption').dataset.error = e.message;
    throw e;
  }
  if (generation !== document.body.dataset.generation) return result;
  const labels = result.rows.map(spec.label);
  const chart = draw(figure, name, {
    type: spec.type,
    data: {
      labels,
      datasets: spec.series.map(([column, label], i) => ({
        label,
        data: result.rows.map((r) => Number(r[column])),
        backgroundColor: COLORS[i % COLORS.length],
        borderColor: COLORS[i % COLORS.length],
        tension: 0.2,
        pointRadius: 0,
      })),
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      indexAxis: spec.horizontal ? 'y' : 'x',
      plugins: { legend: { display: spec.series.length > 1 } },
      scales: spec.tick ? { x: { ticks: { callback: (_v, i) => spec.tick(labels[i]) } } } : undefined,
    },
  });
  expose(figure, chart, result.rows.length);
  if (spec.table) {
    const table = figure.querySelector('table');
    const head = `<tr>${spec.table.map((c) => `<th>${c}</th>`).join('')}</tr>`;
    const cell = (v) =>
      String(v ?? '').replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch]);
    table.innerHTML =
      head +
      result.rows.map((r) => `<tr>${spec.table.map((c) => `<td>${cell(r[c])}</td>`).join('')}</tr>`).join('');
  }
  figure.dataset.state = 'ready';
  return result;
};

const refresh = async () => {
  const generation = String(Number(document.body.dataset.generation ?? '0') + 1);
  document.body.dataset.generation = generation;
  document.body.dataset.ready = 'false';
  $('error').hidden = true;
  saveState();
  const range = resolvedState();
  const figures = [...document.querySelectorAll('figure[data-query]')];
  const results = await Promise.allSettled(figures.map((f) => renderQuery(f, generation, range)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    $('error').textContent = failed.reason.message;
    $('error').hidden = false;
  }
  const first = results.find((r) => r.status === 'fulfilled')?.value;
  if (first) {
    $('coverage').textContent =
      `project "${first.project}" · ${first.from.replace('T', ' ').replace('.000Z', '')} → ${first.to.replace('T', ' ').replace('.000Z', '')} ${first.timeZone} (end exclusive)` +
      (range.relative ? ` · "${range.typed.from}" → "${range.typed.to}" resolved at this refresh` : '');
    $('coverage').dataset.from = first.from;
    $('coverage').dataset.to = first.to;
    $('coverage').dataset.project = first.project;
  }
  if (generation === document.body.dataset.generation) document.body.dataset.ready = 'true';
};

const rateHistory = [];
const pollLive = async () => {
  let live;
  try {
    live = await getJson('/api/live');
  } catch {
    return;
  }
  const fmt = (s) => (s === null ? '–' : `${s.toFixed(1)} s`);
  $('live-rate').textContent = live.recordsPerSecond.toFixed(0);
  $('live-behind').textContent = fmt(live.behindSeconds);
  $('live-fresh').textContent = `${fmt(live.freshness.p50Seconds)} / ${fmt(live.freshness.p95Seconds)}`;
  $('live-landed').textContent = String(live.rowsLanded);
  $('live-duplicates').textContent = String(live.duplicates);
  $('live-dead').textContent = String(live.deadLetters);
  $('live-dead-reasons').textContent = Object.entries(live.deadLettersByReason)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  $('live-warehouse').textContent = `${live.warehouse.rows} (${live.warehouse.pendingFiles})`;
  $('live-health').textContent = live.healthy ? 'ok' : 'unhealthy';
  $('live-reasons').textContent = live.reasons.join('; ');
  $('live').dataset.records = String(live.records);
  rateHistory.push([live.at.slice(11, 19), live.recordsPerSecond]);
  if (rateHistory.length > 120) rateHistory.shift();
  const rateFigure = document.querySelector('figure[data-live="rate"]');
  const rate = charts.get('live-rate');
  if (rate) {
    rate.data.labels = rateHistory.map((p) => p[0]);
    rate.data.datasets[0].data = rateHistory.map((p) => p[1]);
    rate.update('none');
  } else {
    draw(rateFigure, 'live-rate', {
      type: 'line',
      data: {
        labels: rateHistory.map((p) => p[0]),
        datasets: [
          { label: 'records/s', data: rateHistory.map((p) => p[1]), borderColor: COLORS[0], pointRadius: 0 },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } },
    });
  }
  const lagFigure = document.querySelector('figure[data-live="lag"]');
  const lag = draw(lagFigure, 'live-lag', {
    type: 'bar',
    data: {
      labels: live.shards.map((s) => s.shardId),
      datasets: [
        {
          label: 'seconds behind',
          data: live.shards.map((s) => s.behindSeconds),
          backgroundColor: COLORS[1],
        },
      ],
    },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } },
  });
  expose(lagFigure, lag, live.shards.length);
};

const start = async () => {
  const info = await getJson('/api/queries');
  $('warehouse').textContent = `over ${info.warehouse}`;
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('from')) $('from').value = hash.get('from');
  if (hash.get('to')) $('to').value = hash.get('to');
  if (info.live) {
    $('live').hidden = false;
    await pollLive();
    setInterval(pollLive, 2000);
  }
  $('controls').addEventListener('submit', async (e) => {
    e.preventDefault();
    await loadProjects();
    await refresh();
  });
  $('project').addEventListener('change', () => refresh());
  for (const button of document.querySelectorAll('button[data-range]')) {
    button.addEventListener('click', async () => {
      $('from').value = button.dataset.range;
      $('to').value = 'now';
      await loadProjects();
      await refresh();
    });
  }
  try {
    await loadProjects();
  } catch (e) {
    $('error').textContent = e.message;
    $('error').hidden = false;
  }
  await refresh();
};

start();
