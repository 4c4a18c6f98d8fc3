import { gzipSync } from 'node:zlib';
import { sampleRequestRows } from '../encode/sample-request-rows.ts';
import type { SourceRecord } from '../types.ts';
import type { RecordStage } from './record-stage.ts';

/**
 * Lines a stage thread runs through decode → validate → enrich → encode before it takes its first
 * chunk, so that its first real records run optimised code. V8 compiles a function with its
 * optimising tier only once it has run hot, and the first records also fill the caches and compile
 * the regular expressions: preparing 20,000 demo records in chunks of 1,000 in a new isolate took
 * 229, 97, 80, 73, 53 ms for the first five chunks, then ~40 ms each (two runs alike). A worker
 * that starts on a backlog (a deploy, a takeover, `npm start -- --demo-events`) met that cost on
 * its first batches. 2,000 lines take the two costliest chunks (~0.3 s at a thread's start; 4,000
 * took ~0.5 s for ~70 ms more off the first batches).
 *
 * `npm start -- --demo-events 20000 --exit`, 5 interleaved pairs on a slow hour, 4,000 records
 * against none: p95 arrival → queryable 2,985 / 4,321 / 4,098 / 3,920 / 3,336 ms against 4,083 /
 * 4,099 / 4,392 / 4,155 / 4,458 (mean 3,732 against 4,237), p50 mean 2,588 against 3,116; 2,000
 * against 4,000, 5 more pairs: p95 mean 3,989 against 3,951 (within this hour's noise).
 *
 * What the lines are matters as much: the demo's traffic as the sidecars pack it (8,000 lines,
 * records of 540 gzipped lines, chunks of two records), in a new process after each warm-up, two
 * runs each: the first chunk took 180-183 ms after these lines (real-world user agents, half of
 * them packed and gzipped), 201-216 ms after single lines with two browser user agents, 307-343
 * ms with no warm-up; all 8 chunks 640 / 641, 735 / 764 and 823 / 878 ms. What the first chunk
 * still spends is new traffic's own: caches of its user agents, addresses and paths, and the
 * routes of projects not seen yet.
 */
export const WARM_UP_LINES = 2_000;
const WARM_UP_CHUNK = 1_000;

/**
 * User agents of the kinds APIs see, so that the user-agent parser compiles the patterns real
 * traffic reaches (it tries its patterns in order, and compiles each on first use).
 */
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'ExampleApp/3.2.1 (com.example.app; build:321; iOS 18.1.0) Alamofire/5.9.1',
  'okhttp/4.12.0',
  'curl/8.5.0',
  'python-requests/2.32.3',
  'Go-http-client/2.0',
  'axios/1.7.7',
  'PostmanRuntime/7.42.0',
] as const;

/** Lines a sidecar packs into one record with `simple_aggregation` and gzip (see fluent-bit/). */
const LINES_A_PACKED_RECORD = 100;

/**
 * Fluent Bit lines in the shapes a sidecar sends (see fluent-bit/), with nothing from real
 * traffic: the first half one line a record, the rest packed and gzipped as the sidecars send them.
 */
export const warmUpRecords = (count: number, nowMs: number): SourceRecord[] => {
  const lines = warmUpLines(count, nowMs);
  const single = Math.ceil(count / 2);
  const records: SourceRecord[] = lines.slice(0, single).map((line, i) => record(i + 1, nowMs, line));
  for (let at = single; at < lines.length; at += LINES_A_PACKED_RECORD) {
    const packed = Buffer.concat(lines.slice(at, at + LINES_A_PACKED_RECORD));
    records.push(record(records.length + 1, nowMs, gzipSync(packed, { level: 1 })));
  }
  return records;
};

const record = (sequence: number, nowMs: number, data: Uint8Array): SourceRecord => ({
  shardId: 'shardId-warm-up',
  sequenceNumber: String(sequence),
  partitionKey: 'warm-up',
  arrivedAt: new Date(nowMs),
  data,
});

const warmUpLines = (count: number, nowMs: number): Buffer[] => {
  const rows = sampleRequestRows(count, { startMicros: BigInt(nowMs - 60_000) * 1000n });
  return rows.map((row, i): Buffer => {
    const ms = Number(row.ts / 1000n);
    const headers: Record<string, string> = {
      host: row.host ?? 'api.example.com',
      accept: 'application/json',
      'x-request-id': row.request_id,
    };
    // Values the redaction looks at: a bearer token, a cookie, a key in the query.
    if (i % 3 === 0) headers.authorization = `Bearer warm.${row.request_id}.up`;
    if (i % 5 === 0) headers.cookie = `session=${row.request_id}; theme=dark`;
    const log = {
      // Both kinds of time Fluent Bit writes: an ISO string, or epoch milliseconds.
      timestamp: i % 2 === 0 ? new Date(ms).toISOString() : ms,
      ...(i % 4 === 0 ? {} : { request_id: row.request_id }),
      project_id: row.project_id,
      method: row.method,
      path: row.path,
      ...(row.query === null ? {} : { query: i % 7 === 0 ? `${row.query}&api_key=warm${i}` : row.query }),
      status: row.status,
      latency_ms: row.latency_ms,
      ip: i % 11 === 0 ? `2001:db8::${(i % 65_535).toString(16)}` : row.client_ip,
      user_agent: USER_AGENTS[i % USER_AGENTS.length],
      headers,
      bytes_in: row.bytes_in,
      bytes_out: row.bytes_out,
      protocol: row.protocol,
      ...(row.service === null ? {} : { service: row.service }),
      environment: row.environment,
      ...(row.request_body === null
        ? {}
        : { request_body: `{"name":"user ${i}","email":"user${i}@example.com","items":[${i % 7}]}` }),
      ...(row.response_body === null ? {} : { response_body: row.response_body }),
      fb_time: String(ms),
    };
    return Buffer.from(`${JSON.stringify(log)}\n`);
  });
};

/**
 * Runs `records` through `stage` as a processor would (prepare in chunks, encode each chunk's
 * rows, forget them) and returns how many rows it made. `stage` must be one of its own, with an
 * enricher whose route book is thrown away after: the warm-up's paths must not become learned
 * endpoints, and its rows never land.
 */
export const warmUp = async (stage: RecordStage, records: readonly SourceRecord[]): Promise<number> => {
  const pid = -1;
  let rows = 0;
  try {
    for (let at = 0; at < records.length; ) {
      const chunk = stage.prepare(pid, records.slice(at, at + WARM_UP_CHUNK));
      at += chunk.records;
      const refs = Array.from({ length: chunk.rows }, (_, r) => chunk.firstRef + r);
      const through = chunk.firstRef + chunk.rows - 1;
      const encoded = await stage.encode(pid, refs, through);
      if (!encoded.ok) throw new Error(`warm-up encode failed: ${encoded.name}: ${encoded.message}`);
      rows += refs.length;
    }
  } finally {
    stage.drop(pid);
  }
  return rows;
};
