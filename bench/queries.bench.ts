/**
 * bench:queries — every named dashboard query (schemas/queries/) on 10,000,000 generated rows in
 * the embedded warehouse, through the same path as `shardline query --named` (DuckDbWarehouse,
 * which opens the file for each call, so every run starts with DuckDB's cache empty). Prints one
 * JSON line last, with each query's median milliseconds under `medianMs`.
 *
 *   npm run bench:queries -- [--rows 10000000] [--runs 5] [--rebuild] [--queries-dir <dir>]
 *
 * `--queries-dir` times another copy of the query files (e.g. the previous version) on the same
 * rows, to compare in one sitting on a noisy machine.
 *
 * The rows are built once, inside DuckDB with SQL (range() and hash-based columns), and cached in
 * .shardline/bench/; JS would take minutes to make 10M rows. Their distributions mimic the demo
 * traffic: a few projects of very different sizes, a handful of endpoints each with a skewed
 * mix, ~90% 2xx, log-normal latencies and sizes, a few thousand clients of whom a few send most,
 * secrets in URLs for the legacy project.
 *
 * Row order is the real loader's, not a kinder one: a shard flushes a file every 5 s
 * (batch.maxAgeMs), which at this rate (10M rows a week, ~16/s over 4 shards) holds ~20 rows;
 * files load in arrival order, and the loader's dedupe (a window over project_id, request_id)
 * inserts each file's rows grouped by project, not by time. So every row group of 122,880 rows
 * holds every project, interleaved, over a ~2 hour span: zone maps skip other times, never other
 * projects. (Version 1 of this table put 50k rows of 50 minutes in each file, sorted by project:
 * long runs of one project, which made the same queries 10-30% cheaper than this layout.)
 *
 * Three ranges, for the biggest project (~45% of the rows): the whole week (`medianMs`, the
 * heaviest range a dashboard asks for), its last 24 hours (`medianMsDay`) and last hour
 * (`medianMsHour`). `top_projects` covers every project over the same ranges.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbWarehouse } from '../pipeline/warehouse/duckdb-warehouse.ts';
import { renderNamedQuery } from '../schemas/queries/named-query.ts';
import { loadQueryLibrary, QUERIES_DIR } from '../schemas/queries/query-library.ts';
import { REQUEST_COLUMNS } from '../schemas/request-row.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    runs: { type: 'string', default: '5' },
    rebuild: { type: 'boolean', default: false },
    dir: { type: 'string', default: '.shardline/bench' },
    'queries-dir': { type: 'string', default: QUERIES_DIR },
  },
});
const rows = Number(values.rows);
const runs = Number(values.runs);
/** Bump when the generator changes, so a cached file of the old shape is rebuilt. */
const GENERATOR_VERSION = 2;
const file = join(values.dir, `queries-${rows}-v${GENERATOR_VERSION}.duckdb`);
const START = '2026-11-15 00:00:00';
const SPAN_SECONDS = 7 * 24 * 3600;
/** batch.maxAgeMs and the demo stream's shards: how the real loader cuts files at this rate. */
const FLUSH_SECONDS = 5;
const SHARDS = 4;
const END = '2026-11-22 00:00:00';
const RANGES = {
  medianMs: { from: START, to: END },
  medianMsDay: { from: '2026-11-21 00:00:00', to: END },
  medianMsHour: { from: '2026-11-21 23:00:00', to: END },
} as const;
const log = (line: string) => process.stderr.write(`${line}\n`);

/** A uniform number in [0, 1) from the row number and a salt: the same row, the same value. */
const u = (salt: number) => `((hash(i, ${salt}) % 1000003) / 1000003.0)`;
/** An element of a SQL list literal picked by a uniform draw; `skew` > 1 favours the first ones. */
const pick = (list: readonly string[], salt: number, skew = 1) =>
  `[${list.map((s) => `'${s}'`).join(', ')}][1 + floor(${list.length} * pow(${u(salt)}, ${skew}))::INTEGER]`;
/** A log-normal draw (Box–Muller) with the given median and sigma. */
const logNormal = (median: number, sigma: number, salt: number) =>
  `${median} * exp(${sigma} * sqrt(-2 * ln(greatest(${u(salt)}, 1e-9))) * cos(2 * pi() * ${u(salt + 1)}))`;

const PROJECTS = [
  ['proj_storefront', 45],
  ['proj_payments', 20],
  ['proj_cms', 15],
  ['proj_iot', 10],
  ['proj_legacy', 4],
  ['proj_admin', 4],
  ['proj_sandbox', 2],
] as const;
const projectCase = (() => {
  let acc = 0;
  const arms = PROJECTS.map(([p, w]) => {
    acc += w;
    return `WHEN ${u(1)} * 100 < ${acc} THEN '${p}'`;
  });
  return `CASE ${arms.join(' ')} END`;
})();
const ENDPOINTS = [
  'GET /v1/products',
  'GET /v1/search',
  'GET /v1/carts/{id}',
  'POST /v1/orders',
  'GET /v1/orders/{id}',
  'GET /v1/users/{id}',
  'PUT /v1/users/{id}',
  'POST /v1/payments',
  'GET /api/getCustomer',
  'GET /api/listInvoices',
  'DELETE /v1/carts/{id}',
  'GET /health',
];
const COUNTRIES = [
  'US',
  'DE',
  'IN',
  'GB',
  'FR',
  'BR',
  'JP',
  'CA',
  'NL',
  'ES',
  'IT',
  'AU',
  'PL',
  'SE',
  'MX',
  'KR',
];
const BROWSERS = [
  'Chrome',
  'Safari',
  'Mobile Safari',
  'Firefox',
  'Edge',
  'okhttp',
  'curl',
  'python-requests',
  'Go-http-client',
  'Googlebot',
];
const OSES = ['Windows', 'Mac OS', 'iOS', 'Android', 'Linux'];

const build = async () => {
  mkdirSync(values.dir, { recursive: true });
  rmSync(file, { force: true });
  await (await DuckDbWarehouse.open(file)).close();
  const instance = await DuckDBInstance.create(file);
  const db = await instance.connect();
  const t0 = performance.now();
  const status = `CASE WHEN ${u(5)} < 0.90 THEN 200 WHEN ${u(5)} < 0.915 THEN 304 WHEN ${u(5)} < 0.935 THEN 401 WHEN ${u(5)} < 0.97 THEN 404 WHEN ${u(5)} < 0.98 THEN 422 WHEN ${u(5)} < 0.99 THEN 429 WHEN ${u(5)} < 0.996 THEN 500 ELSE 503 END`;
  const expressions: Record<string, string> = {
    ts: `TIMESTAMP '${START}' + to_microseconds((i * ${SPAN_SECONDS}::BIGINT * 1000000) // ${rows} + (hash(i, 2) % 1000000)::BIGINT)`,
    project_id: 'project_id',
    request_id: `'req-' || lpad(i::VARCHAR, 9, '0')`,
    method: `split_part(ep, ' ', 1)`,
    host: `replace(project_id, 'proj_', '') || '.example.com'`,
    path: `replace(split_part(ep, ' ', 2), '{id}', ((hash(i, 3) % 90000) + 1)::VARCHAR)`,
    query: `CASE WHEN project_id = 'proj_legacy' THEN 'customerId=42&api_key=REDACTED' WHEN ${u(4)} < 0.2 THEN 'page=2&limit=50' END`,
    endpoint: `split_part(ep, ' ', 2)`,
    status: 'status_code',
    status_class: `(status_code // 100)::VARCHAR || 'xx'`,
    is_error: 'status_code >= 400',
    latency_ms: `round(${logNormal(60, 0.9, 6)} * CASE WHEN ep LIKE '%search%' OR ep LIKE '%listInvoices%' THEN 4 ELSE 1 END, 3)`,
    bytes_in: `CASE WHEN split_part(ep, ' ', 1) IN ('POST', 'PUT') THEN floor(${logNormal(800, 0.7, 8)})::BIGINT END`,
    bytes_out: `floor(${logNormal(3000, 1.2, 10)})::BIGINT`,
    client_ip: `'203.0.' || (floor(64 * pow(${u(12)}, 3))::INTEGER)::VARCHAR || '.' || (hash(i, 13) % 80)::VARCHAR`,
    country: `CASE WHEN ${u(14)} < 0.03 THEN NULL ELSE ${pick(COUNTRIES, 15, 2)} END`,
    city: 'NULL',
    user_agent: `browser || '/' || ((hash(i, 17) % 30) + 100)::VARCHAR`,
    browser: 'browser',
    browser_version: `((hash(i, 17) % 30) + 100)::VARCHAR`,
    os: `CASE WHEN browser IN ('curl', 'okhttp', 'python-requests', 'Go-http-client', 'Googlebot') THEN NULL ELSE ${pick(OSES, 18, 1.5)} END`,
    device_type: `CASE WHEN browser = 'Googlebot' THEN 'bot' WHEN browser IN ('curl', 'okhttp', 'python-requests', 'Go-http-client') THEN 'other' WHEN browser = 'Mobile Safari' THEN 'mobile' WHEN ${u(19)} < 0.05 THEN 'tablet' ELSE 'desktop' END`,
    is_bot: `browser = 'Googlebot'`,
    headers: `'{"accept":"application/json"}'`,
    request_body: 'NULL',
    response_body: `CASE WHEN status_code >= 400 THEN '{"error":"' || status_code::VARCHAR || '"}' END`,
    redacted: `CASE WHEN project_id = 'proj_legacy' THEN 'query:api_key' WHEN ${u(20)} < 0.3 THEN 'header:authorization' END`,
    protocol: `'HTTP/1.1'`,
    service: `'api'`,
    environment: `'production'`,
    ingest_ts: `ts + INTERVAL 800 MILLISECOND`,
    shard_id: `'shardId-00000000000' || (i % ${SHARDS})::VARCHAR`,
    sequence_number: `lpad(i::VARCHAR, 56, '0')`,
    sub_sequence: '0',
  };
  const missing = REQUEST_COLUMNS.filter((c) => !(c.name in expressions)).map((c) => c.name);
  if (missing.length > 0) throw new Error(`bench generator lacks columns ${missing.join(', ')}`);
  // Expressions read project_id, browser, ep and status_code from the inner selects, and earlier
  // columns of the same select (ts) through DuckDB's lateral column aliases.
  const columns = REQUEST_COLUMNS.map((c) => `${expressions[c.name]} AS "${c.name}"`).join(',\n    ');
  await db.run(`INSERT INTO requests
    SELECT ${REQUEST_COLUMNS.map((c) => `"${c.name}"`).join(', ')} FROM (
      SELECT ${columns}
      FROM (
        SELECT *, ${status} AS status_code
        FROM (
          SELECT i, ${projectCase} AS project_id, ${pick(BROWSERS, 16, 1.6)} AS browser, ${pick(ENDPOINTS, 3, 1.8)} AS ep
          FROM range(${rows}) r(i)
        ) base
      ) shaped
    ) generated
    ORDER BY floor(epoch(ingest_ts) / ${FLUSH_SECONDS}), shard_id, project_id, request_id`);
  const [[n]] = (await db.runAndReadAll('SELECT count(*) FROM requests')).getRows() as [[bigint]];
  db.closeSync();
  instance.closeSync();
  return { rows: Number(n), seconds: (performance.now() - t0) / 1000 };
};

const built = values.rebuild || !existsSync(file) ? await build() : undefined;
if (built) log(`built ${built.rows} rows in ${built.seconds.toFixed(1)} s → ${file}`);
else log(`reusing ${file} (--rebuild to make it again)`);

const warehouse = await DuckDbWarehouse.open(file, { readOnly: true });
const total = await warehouse.rowCount();
if (total !== rows) throw new Error(`${file} holds ${total} rows, not ${rows}; run with --rebuild`);
const library = loadQueryLibrary(values['queries-dir']);
const project = 'proj_storefront';
const resultRows: Record<string, number> = {};
const medians: Record<keyof typeof RANGES, Record<string, number>> = {
  medianMs: {},
  medianMsDay: {},
  medianMsHour: {},
};
for (const query of library.values()) {
  const line: string[] = [];
  for (const [range, bounds] of Object.entries(RANGES) as [
    keyof typeof RANGES,
    (typeof RANGES)[keyof typeof RANGES],
  ][]) {
    const rendered = renderNamedQuery(query, 'duckdb', { project, ...bounds });
    const times: number[] = [];
    for (let run = 0; run <= runs; run++) {
      const t = performance.now();
      const result = await warehouse.queryWithParams(rendered.sql, rendered.values as Record<string, string>);
      if (run > 0) times.push(performance.now() - t);
      if (range === 'medianMs') resultRows[query.name] = result.length;
    }
    times.sort((a, b) => a - b);
    const median = Math.round((times[Math.floor(times.length / 2)] as number) * 10) / 10;
    medians[range][query.name] = median;
    line.push(`${String(median).padStart(8)} ms`);
  }
  log(`${query.name.padEnd(28)} ${line.join(' ')}  (week: ${resultRows[query.name]} rows)`);
}
await warehouse.close();
process.stdout.write(
  `${JSON.stringify({
    rows: total,
    builtSeconds: built ? Math.round(built.seconds * 10) / 10 : null,
    project,
    ranges: RANGES,
    runs,
    resultRows,
    ...medians,
    maxMedianMs: Math.max(...Object.values(medians.medianMs)),
  })}\n`,
);
