import { sampleRequestRows } from '../encode/sample-request-rows.ts';
import type { SourceRecord } from '../types.ts';
import type { RecordStage } from './record-stage.ts';

/**
 * Records a stage thread runs through decode → validate → enrich → encode before it takes its first
 * chunk, so that its first real records run optimised code. V8 compiles a function with its
 * optimising tier only once it has run hot, and the first records also fill the caches and compile
 * the regular expressions: preparing 20,000 demo records in chunks of 1,000 in a new isolate took
 * 229, 97, 80, 73, 53 ms for the first five chunks, then ~40 ms each (two runs alike). A worker
 * that starts on a backlog (a deploy, a takeover, `npm start -- --demo-events`) met that cost on
 * its first batches. 2,000 records take the two costliest chunks (~0.3 s at a thread's start; 4,000
 * took ~0.5 s for ~70 ms more off the first batches).
 *
 * `npm start -- --demo-events 20000 --exit`, 5 interleaved pairs on a slow hour, 4,000 records
 * against none: p95 arrival → queryable 2,985 / 4,321 / 4,098 / 3,920 / 3,336 ms against 4,083 /
 * 4,099 / 4,392 / 4,155 / 4,458 (mean 3,732 against 4,237), p50 mean 2,588 against 3,116; 2,000
 * against 4,000, 5 more pairs: p95 mean 3,989 against 3,951 (within this hour's noise).
 */
export const WARM_UP_RECORDS = 2_000;
const WARM_UP_CHUNK = 1_000;

/** Fluent Bit lines in the shapes a sidecar sends (see fluent-bit/), with nothing from real traffic. */
export const warmUpRecords = (count: number, nowMs: number): SourceRecord[] => {
  const encoder = new TextEncoder();
  const rows = sampleRequestRows(count, { startMicros: BigInt(nowMs - 60_000) * 1000n });
  return rows.map((row, i): SourceRecord => {
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
      user_agent: row.user_agent,
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
    return {
      shardId: 'shardId-warm-up',
      sequenceNumber: String(i + 1),
      partitionKey: 'warm-up',
      arrivedAt: new Date(nowMs),
      data: encoder.encode(`${JSON.stringify(log)}\n`),
    };
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
      const refs = Array.from({ length: chunk.keys.length }, (_, r) => chunk.firstRef + r);
      const through = chunk.firstRef + chunk.keys.length - 1;
      const encoded = await stage.encode(pid, refs, through);
      if (!encoded.ok) throw new Error(`warm-up encode failed: ${encoded.name}: ${encoded.message}`);
      rows += refs.length;
    }
  } finally {
    stage.drop(pid);
  }
  return rows;
};
