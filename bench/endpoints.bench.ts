/**
 * bench:endpoints — how well and how fast endpoints are found. Sends the evaluation corpus
 * (test/endpoints/corpus/) through a route book one request at a time in arrival order, as the
 * enricher does, and prints one JSON line: exact match (micro and macro), adjusted Rand index
 * (macro), per-API scores, the APIs held out from tuning apart, paths/s on one core (learning and
 * templating, first pass and on a warm book), the per-segment rules' paths/s for comparison, and
 * heap bytes per 1,000 routes learned.
 *
 *   npm run bench:endpoints -- [--per-api 5000] [--seed 14]
 */
import { parseArgs } from 'node:util';
import { endpointTemplate } from '../pipeline/enrich/endpoint-template.ts';
import { RouteBook } from '../pipeline/enrich/routes/route-book.ts';
import { runCorpus } from '../test/endpoints/run-corpus.ts';

const { values } = parseArgs({
  options: {
    'per-api': { type: 'string', default: '5000' },
    seed: { type: 'string', default: '14' },
  },
});
const perApi = Number(values['per-api']);
const seed = Number(values.seed);
const gc = (globalThis as { gc?: () => void }).gc;

const round = (x: number, d = 3) => Number(x.toFixed(d));
const summary = (s: ReturnType<typeof runCorpus>['all']) => ({
  exactMicro: round(s.exactMicro),
  exactMacro: round(s.exactMacro),
  ariMacro: round(s.ariMacro),
});

const run = runCorpus(perApi, seed);
const requests = run.requests.map((r) => {
  const q = r.path.indexOf('?');
  return { ...r, bare: q === -1 ? r.path : r.path.slice(0, q), query: q === -1 ? null : r.path.slice(q + 1) };
});

// Speed, first pass: a fresh book learns while it templates.
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const fresh = new RouteBook({ cacheSize: 2 });
let t = performance.now();
for (const r of requests) fresh.endpoint(r.api, r.bare, r.method, r.status, r.query);
const firstPassPerSecond = requests.length / ((performance.now() - t) / 1000);
gc?.();
const heapAfter = process.memoryUsage().heapUsed;
const routes = run.all.perApi.reduce((s, a) => s + a.routes, 0);

// Warm: the same traffic again, with the (project, path) cache.
t = performance.now();
for (let i = 0; i < 3; i++)
  for (const r of requests) run.book.endpoint(r.api, r.bare, r.method, r.status, r.query);
const warmPerSecond = (3 * requests.length) / ((performance.now() - t) / 1000);

t = performance.now();
for (let i = 0; i < 3; i++) for (const r of requests) endpointTemplate(r.bare);
const rulesPerSecond = (3 * requests.length) / ((performance.now() - t) / 1000);

console.log(
  JSON.stringify({
    bench: 'endpoints',
    requests: requests.length,
    routes,
    all: summary(run.all),
    tuned: summary(run.tuned),
    heldOut: { ...summary(run.heldOut), apis: run.heldOut.perApi.map((a) => a.api) },
    perApi: run.all.perApi.map((a) => ({
      api: a.api,
      routes: a.routes,
      endpoints: a.endpoints,
      exact: round(a.exact),
      ari: round(a.ari),
    })),
    pathsPerSecondFirstPass: Math.round(firstPassPerSecond),
    pathsPerSecondWarm: Math.round(warmPerSecond),
    rulesOnlyPathsPerSecond: Math.round(rulesPerSecond),
    bytesPer1000Routes: gc === undefined ? null : Math.round(((heapAfter - heapBefore) / routes) * 1000),
    trieNodes: run.all.perApi.reduce((s, a) => s + fresh.nodes(a.api), 0),
  }),
);
