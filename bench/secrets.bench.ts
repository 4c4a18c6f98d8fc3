/**
 * bench:secrets — what the secret scanner costs on the hot path. Redacts the text columns of
 * ordinary generated traffic (path, query, headers, user agent, bodies) the way enrichment does,
 * without the rest of enrichment, and prints one JSON line: rows/s and characters/s scanned, for
 * ordinary rows and for the secret corpus.
 *
 *   npm run bench:secrets -- [--rows 100000] [--rounds 3]
 */
import { parseArgs } from 'node:util';
import { generateRequestLogs } from '../fluent-bit/demo/traffic-generator.ts';
import { redactBody, redactHeaders, redactPath, redactQuery, redactText } from '../pipeline/enrich/redact.ts';
import type { RequestLog } from '../schemas/request-log.ts';
import { secretCorpus } from '../test/secrets/secret-corpus.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '3' },
  },
});
const rows = Number(values.rows);
const rounds = Number(values.rounds);

const scan = (log: RequestLog): number => {
  const found: string[] = [];
  const q = log.path.indexOf('?');
  const path = redactPath(q === -1 ? log.path : log.path.slice(0, q));
  const query = redactQuery(
    q === -1 ? (typeof log.query === 'string' ? log.query : '') : log.path.slice(q + 1),
  );
  const headers = redactHeaders(log.headers);
  const ua = redactText(log.user_agent, 'user_agent', found);
  const request = redactBody(log.request_body, 16_384, 'request_body');
  const response = redactBody(log.response_body, 16_384, 'response_body');
  return (
    path.path.length +
    query.query.length +
    (headers.json?.length ?? 0) +
    (ua?.length ?? 0) +
    (request.body?.length ?? 0) +
    (response.body?.length ?? 0)
  );
};

/** Best of `rounds`: the first round also pays for JIT warm-up and cache filling. */
const measure = (logs: readonly RequestLog[]): { rowsPerSecond: number; charsPerSecond: number } => {
  let best = { rowsPerSecond: 0, charsPerSecond: 0 };
  for (let r = 0; r < rounds; r++) {
    let chars = 0;
    const start = performance.now();
    for (const log of logs) chars += scan(log);
    const seconds = (performance.now() - start) / 1000;
    if (logs.length / seconds > best.rowsPerSecond) {
      best = {
        rowsPerSecond: Math.round(logs.length / seconds),
        charsPerSecond: Math.round(chars / seconds),
      };
    }
  }
  return best;
};

const ordinary = [...generateRequestLogs(rows, { seed: 42 })];
const secrets = secretCorpus().map((c) => c.log as unknown as RequestLog);
const secretRows: RequestLog[] = [];
while (secretRows.length < Math.min(rows, 50_000)) secretRows.push(...secrets);

const ordinaryFigures = measure(ordinary);
const secretFigures = measure(secretRows);
console.log(
  JSON.stringify({
    bench: 'secrets',
    ordinaryRows: ordinary.length,
    ordinaryRowsPerSecond: ordinaryFigures.rowsPerSecond,
    ordinaryCharsPerSecond: ordinaryFigures.charsPerSecond,
    secretRows: secretRows.length,
    secretRowsPerSecond: secretFigures.rowsPerSecond,
    node: process.version,
  }),
);
