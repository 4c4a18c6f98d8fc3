import type { RequestRow } from '../../schemas/request-row.ts';

/**
 * The dashboard figures computed in TypeScript straight from the enriched rows, to check the
 * SQL of schemas/queries/ against. Nothing here reads SQL or the warehouse.
 */
type Row = Record<string, string | number | null>;

export interface Range {
  readonly project: string;
  readonly fromMicros: bigint;
  readonly toMicros: bigint;
}

const round = (x: number, places: number): number => {
  const f = 10 ** places;
  return Math.round(x * f) / f;
};
const ratio = (a: number, b: number): number | null => (b === 0 ? null : round(a / b, 4));
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Linear interpolation between the closest ranks, as PERCENTILE_CONT / quantile_cont. */
export const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const low = sorted[lo] as number;
  const high = sorted[Math.min(lo + 1, sorted.length - 1)] as number;
  return low + (h - lo) * (high - low);
};

const inRange = (rows: readonly RequestRow[], r: Range, anyProject = false) =>
  rows.filter((x) => (anyProject || x.project_id === r.project) && x.ts >= r.fromMicros && x.ts < r.toMicros);

const groupBy = <K extends string>(rows: readonly RequestRow[], key: (r: RequestRow) => K) => {
  const groups = new Map<K, RequestRow[]>();
  for (const r of rows) {
    const k = key(r);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return groups;
};

const minuteIso = (micros: bigint): string => {
  const ms = Number(micros / 60_000_000n) * 60_000;
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
};

const errors = (rows: readonly RequestRow[]) => rows.filter((r) => r.is_error).length;
const endpointKey = (r: RequestRow) => `${r.method} ${r.endpoint}`;
const byRequestsThenEndpoint = (a: Row, b: Row) =>
  (b.requests as number) - (a.requests as number) ||
  cmp(a.endpoint as string, b.endpoint as string) ||
  cmp(a.method as string, b.method as string);

const shares = (rows: readonly RequestRow[], column: keyof RequestRow, limit: number): Row[] => {
  const name = String(column);
  return [...groupBy(rows, (r) => String(r[column] ?? '(unknown)'))]
    .map(([value, g]) => ({ [name]: value, requests: g.length, share: ratio(g.length, rows.length) }))
    .sort((a, b) => b.requests - a.requests || cmp(a[name] as string, b[name] as string))
    .slice(0, limit);
};

const endpointStats = (rows: readonly RequestRow[]) =>
  [...groupBy(rows, endpointKey)].map(([, g]) => ({ first: g[0] as RequestRow, g }));

export const EXPECTED: Readonly<Record<string, (rows: readonly RequestRow[], r: Range) => Row[]>> = {
  requests_per_minute: (all, r) =>
    [...groupBy(inRange(all, r), (x) => minuteIso(x.ts))]
      .map(([minute, g]) => ({
        minute,
        requests: g.length,
        errors: errors(g),
        error_rate: ratio(errors(g), g.length),
      }))
      .sort((a, b) => cmp(a.minute, b.minute)),

  latency_by_endpoint: (all, r) =>
    endpointStats(inRange(all, r))
      .map(({ first, g }) => {
        const latency = g.map((x) => x.latency_ms);
        return {
          method: first.method,
          endpoint: first.endpoint,
          requests: g.length,
          p50_ms: round(percentile(latency, 0.5), 3),
          p95_ms: round(percentile(latency, 0.95), 3),
          p99_ms: round(percentile(latency, 0.99), 3),
        };
      })
      .sort(byRequestsThenEndpoint)
      .slice(0, 50),

  error_rate_by_status_class: (all, r) => {
    const rows = inRange(all, r);
    return [...groupBy(rows, (x) => x.status_class)]
      .map(([status_class, g]) => ({ status_class, requests: g.length, share: ratio(g.length, rows.length) }))
      .sort((a, b) => cmp(a.status_class, b.status_class));
  },

  top_endpoints: (all, r) =>
    endpointStats(inRange(all, r))
      .map(({ first, g }) => ({
        method: first.method,
        endpoint: first.endpoint,
        requests: g.length,
        errors: errors(g),
        error_rate: ratio(errors(g), g.length),
      }))
      .sort(byRequestsThenEndpoint)
      .slice(0, 20),

  top_projects: (all, r) =>
    [...groupBy(inRange(all, r, true), (x) => x.project_id)]
      .map(([project_id, g]) => ({
        project_id,
        requests: g.length,
        errors: errors(g),
        error_rate: ratio(errors(g), g.length),
        p95_ms: round(
          percentile(
            g.map((x) => x.latency_ms),
            0.95,
          ),
          3,
        ),
      }))
      .sort((a, b) => b.requests - a.requests || cmp(a.project_id, b.project_id))
      .slice(0, 20),

  top_consumers: (all, r) =>
    [...groupBy(inRange(all, r), (x) => x.client_ip ?? '(unknown)')]
      .map(([consumer, g]) => {
        const countries = g.map((x) => x.country).filter((c): c is string => c !== null);
        const country = countries.sort().at(-1) ?? '(unknown)';
        return { consumer, country, requests: g.length, errors: errors(g) };
      })
      .sort((a, b) => b.requests - a.requests || cmp(a.consumer, b.consumer))
      .slice(0, 20),

  countries: (all, r) => shares(inRange(all, r), 'country', 50),
  browsers: (all, r) => shares(inRange(all, r), 'browser', 20),
  operating_systems: (all, r) => shares(inRange(all, r), 'os', 20),
  devices: (all, r) => shares(inRange(all, r), 'device_type', 20),

  slowest_endpoints: (all, r) =>
    endpointStats(inRange(all, r))
      .filter(({ g }) => g.length >= 20)
      .map(({ first, g }) => ({
        method: first.method,
        endpoint: first.endpoint,
        requests: g.length,
        p95_ms: round(
          percentile(
            g.map((x) => x.latency_ms),
            0.95,
          ),
          3,
        ),
        max_ms: round(Math.max(...g.map((x) => x.latency_ms)), 3),
      }))
      .sort((a, b) => b.p95_ms - a.p95_ms || cmp(a.endpoint, b.endpoint) || cmp(a.method, b.method))
      .slice(0, 10),

  best_practice_failures: (all, r) =>
    endpointStats(inRange(all, r))
      .map(({ first, g }) => {
        const secretInUrl = g.filter((x) => /(^|,)(query|path):/.test(x.redacted ?? '')).length;
        const p95 = round(
          percentile(
            g.map((x) => x.latency_ms),
            0.95,
          ),
          3,
        );
        const serverErrorRate = ratio(g.filter((x) => x.status >= 500).length, g.length) ?? 0;
        const bytes = g.map((x) => x.bytes_out).filter((b): b is number => b !== null);
        const p95Bytes = bytes.length === 0 ? null : round(percentile(bytes, 0.95), 0);
        const failed = [
          secretInUrl > 0 ? 'secret_in_url' : null,
          p95 > 1000 ? 'slow' : null,
          serverErrorRate > 0.01 ? 'server_errors' : null,
          p95Bytes !== null && p95Bytes > 1_048_576 ? 'large_responses' : null,
        ].filter((c) => c !== null);
        return {
          method: first.method,
          endpoint: first.endpoint,
          requests: g.length,
          failed_checks: failed.join(','),
          secret_in_url: secretInUrl,
          p95_ms: p95,
          server_error_rate: serverErrorRate,
          p95_response_bytes: p95Bytes,
        };
      })
      .filter((x) => x.failed_checks !== '')
      .sort(byRequestsThenEndpoint),
};
