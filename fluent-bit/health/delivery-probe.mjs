#!/usr/bin/env node
/**
 * Is the Fluent Bit sidecar still delivering? Fluent Bit's /api/v1/health cannot say: it counts
 * only `errors` and `retries_failed`, and with `retry_limit: no_limits` a Kinesis outage, wrong
 * credentials or endless throttling move neither. This probe reads Fluent Bit's own counters
 * (/api/v2/metrics/prometheus) and reports a stall: records arrived or retries ran since the last
 * record was delivered, and that delivery is older than `--stall-after`. Idle is healthy.
 *
 * Plain Node 20, nothing outside `node:`: it can run in the app container (the Fluent Bit image is
 * distroless and has no shell), in a container of its own, or from cron on a VM.
 *
 *   node delivery-probe.mjs                      one check; exit 0 ok, 1 stalled, 2 metrics unreadable
 *   node delivery-probe.mjs --serve 2021         GET /healthz: 200 ok, 503 stalled or unreadable
 *
 * Options: --metrics-url (default http://127.0.0.1:2020/api/v2/metrics/prometheus),
 * --stall-after (10m; 90s, 1h), --state (one-shot mode: where the last-progress time is kept
 * between runs; default <tmpdir>/shardline-delivery-probe.json), --interval (serve mode: 15s).
 * Each check prints one JSON line.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * Counter names as Fluent Bit registers them with cmetrics: src/flb_input.c, src/flb_filter.c,
 * src/flb_output.c (each with a `name` label: the instance, e.g. `kinesis_streams.0`).
 */
const METRICS = {
  received: 'fluentbit_input_records_total',
  filterDropped: 'fluentbit_filter_drop_records_total',
  filterAdded: 'fluentbit_filter_add_records_total',
  delivered: 'fluentbit_output_proc_records_total',
  retries: 'fluentbit_output_retries_total',
  dropped: 'fluentbit_output_dropped_records_total',
};

/** Sums every series of each metric in a Prometheus text exposition (labels ignored). */
export function sumMetrics(text) {
  const sums = new Map();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(\S+)/.exec(line.trim());
    if (m === null) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value)) sums.set(m[1], (sums.get(m[1]) ?? 0) + value);
  }
  return sums;
}

/**
 * The figures the decision needs, from one scrape. `toSend` counts records that entered the
 * pipeline and were not dropped on purpose by a filter (health checks, non-request lines).
 */
export function readSample(text, at) {
  const sums = sumMetrics(text);
  if (!sums.has(METRICS.delivered)) {
    throw new Error(
      `no ${METRICS.delivered} in the metrics: is this Fluent Bit's /api/v2/metrics/prometheus?`,
    );
  }
  const get = (name) => sums.get(name) ?? 0;
  return {
    at,
    toSend: get(METRICS.received) - get(METRICS.filterDropped) + get(METRICS.filterAdded),
    delivered: get(METRICS.delivered),
    retries: get(METRICS.retries),
    dropped: get(METRICS.dropped),
  };
}

/**
 * One step of the decision; pure. `state` is what the previous step returned (undefined on the
 * first). Kept between steps: the last time `delivered` grew (`lastDeliveryAt`), the records to
 * send and retries seen since (`work`), and when that work was first seen (`waitingSince`). A
 * stall is work that has waited longer than `stallAfterMs` with no delivery; no work is idle,
 * never a stall, however long ago the last delivery was. Counters that go down mean Fluent Bit
 * restarted: they are then compared against zero, so a restart during an outage neither hides
 * the stall nor counts as a delivery.
 */
export function judgeDelivery(state, sample, { stallAfterMs }) {
  if (state === undefined) {
    const next = { last: sample, lastDeliveryAt: sample.at, work: { records: 0, retries: 0 } };
    return { state: next, healthy: true, reason: 'first look: counting from now', counts: undefined };
  }
  const prev = state.last;
  const restarted = ['toSend', 'delivered', 'retries', 'dropped'].some((k) => sample[k] < prev[k]);
  const base = restarted ? { toSend: 0, delivered: 0, retries: 0, dropped: 0 } : prev;
  const counts = {
    delivered: sample.delivered - base.delivered,
    newRecords: Math.max(0, sample.toSend - base.toSend),
    retries: sample.retries - base.retries,
    dropped: sample.dropped - base.dropped,
    restarted,
  };
  if (counts.delivered > 0) {
    const next = { last: sample, lastDeliveryAt: sample.at, work: { records: 0, retries: 0 } };
    const reason = `delivering: ${counts.delivered} records since the last check`;
    return { state: next, healthy: true, reason, counts };
  }
  const work = {
    records: state.work.records + counts.newRecords,
    retries: state.work.retries + counts.retries,
  };
  if (work.records === 0 && work.retries === 0) {
    const next = { last: sample, lastDeliveryAt: state.lastDeliveryAt, work };
    return { state: next, healthy: true, reason: 'idle: nothing to send', counts };
  }
  const waitingSince = state.waitingSince ?? sample.at;
  const next = { last: sample, lastDeliveryAt: state.lastDeliveryAt, work, waitingSince };
  const waited = sample.at - waitingSince;
  const what = `${work.records} records to send and ${work.retries} retries, none delivered`;
  if (waited <= stallAfterMs) {
    const reason = `waiting: ${what} for ${formatDuration(waited)} of ${formatDuration(stallAfterMs)} allowed`;
    return { state: next, healthy: true, reason, counts };
  }
  const reason =
    `stalled: ${what} for ${formatDuration(waited)} (limit ${formatDuration(stallAfterMs)}; last delivery ` +
    `${new Date(state.lastDeliveryAt).toISOString()}). Check the endpoint, the credentials and the ` +
    "stream's write capacity; the disk buffer keeps the records";
  return { state: next, healthy: false, reason, counts };
}

/** "90s", "10m", "1h", "1500ms" or plain milliseconds. */
export function parseDuration(text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (m === null) throw new Error(`"${text}" is not a duration: write e.g. 90s, 10m or 1h`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 'ms'];
  return Number(m[1]) * unit;
}

export function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

async function scrape(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`);
  return readSample(await res.text(), Date.now());
}

function loadState(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function saveState(file, state) {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state));
  renameSync(tmp, file);
}

async function main(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'metrics-url': { type: 'string', default: 'http://127.0.0.1:2020/api/v2/metrics/prometheus' },
      'stall-after': { type: 'string', default: '10m' },
      state: { type: 'string', default: join(tmpdir(), 'shardline-delivery-probe.json') },
      serve: { type: 'string' },
      interval: { type: 'string', default: '15s' },
    },
  });
  const url = values['metrics-url'];
  const options = { stallAfterMs: parseDuration(values['stall-after']) };

  if (values.serve === undefined) {
    try {
      const verdict = judgeDelivery(loadState(values.state), await scrape(url), options);
      saveState(values.state, verdict.state);
      console.log(
        JSON.stringify({ healthy: verdict.healthy, reason: verdict.reason, counts: verdict.counts }),
      );
      return verdict.healthy ? 0 : 1;
    } catch (error) {
      console.log(JSON.stringify({ healthy: false, reason: `metrics unreadable: ${error.message}` }));
      return 2;
    }
  }

  let state;
  let current = { healthy: true, reason: 'starting' };
  const check = async () => {
    try {
      const verdict = judgeDelivery(state, await scrape(url), options);
      state = verdict.state;
      current = { healthy: verdict.healthy, reason: verdict.reason, counts: verdict.counts };
    } catch (error) {
      current = { healthy: false, reason: `metrics unreadable: ${error.message}` };
    }
    console.log(JSON.stringify(current));
  };
  await check();
  setInterval(check, parseDuration(values.interval)).unref();
  const server = createServer((req, res) => {
    if (req.url !== '/healthz') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(current.healthy ? 200 : 503, { 'content-type': 'application/json' });
    res.end(`${JSON.stringify(current)}\n`);
  });
  server.listen(Number(values.serve));
  await new Promise((done) => {
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
  });
  server.close();
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error.message);
      process.exit(2);
    },
  );
}
