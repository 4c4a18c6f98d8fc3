import { CORPUS_APIS, type CorpusApi } from './apis.ts';
import { Rng, ValuePools, zipfIndex, zipfTable } from './value-generators.ts';

/** One request of the corpus: what the app logged, and the route that served it. */
export interface CorpusRequest {
  readonly api: string;
  readonly method: string;
  /** Path with query string, as logged. */
  readonly path: string;
  /** The route template, parameter names kept. */
  readonly route: string;
  readonly status: number;
}

const PARAM = /\{(\w+):(\w+)\}/g;

/**
 * The requests of one API in arrival order: routes drawn with Zipf popularity (the route table's
 * order shuffled first, so that the popular routes are not the first written), parameter values
 * drawn from per-kind pools.
 */
export function generateApiRequests(api: CorpusApi, count: number, seed: number): CorpusRequest[] {
  const rng = new Rng(seed);
  const pools = new ValuePools(new Rng(seed * 31 + 7));
  const routes = [...api.routes];
  for (let i = routes.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [routes[i], routes[j]] = [routes[j] as string, routes[i] as string];
  }
  const cum = zipfTable(routes.length, 1.0);
  const out: CorpusRequest[] = [];
  for (let i = 0; i < count; i++) {
    const line = routes[zipfIndex(cum, rng.next())] as string;
    const [method = 'GET', template = '/', query] = line.split(' ');
    let path = template.replace(PARAM, (_, _name: string, kind: string) => pools.value(kind));
    if (query !== undefined && rng.next() < 0.6) {
      const params = query
        .slice(1)
        .split('&')
        .filter(() => rng.next() < 0.7)
        .map((p) => {
          const [name, kind = 'word'] = p.split('=');
          return `${name}=${encodeURIComponent(pools.value(kind))}`;
        });
      if (params.length > 0) path += `?${params.join('&')}`;
    }
    const route = template.replace(PARAM, (_, name: string) => `{${name}}`);
    const u = rng.next();
    const status = method === 'POST' ? (u < 0.9 ? 201 : 422) : u < 0.93 ? 200 : u < 0.98 ? 404 : 500;
    out.push({ api: api.name, method, path, route, status });
  }
  return out;
}

export interface Corpus {
  readonly apis: readonly CorpusApi[];
  /** Requests of every API, interleaved in arrival order. */
  readonly requests: readonly CorpusRequest[];
}

/** The whole corpus: `perApi` requests of each API, interleaved at random. */
export function generateCorpus(perApi: number, seed = 14): Corpus {
  const streams = CORPUS_APIS.map((api, i) => generateApiRequests(api, perApi, seed * 1000 + i));
  const rng = new Rng(seed);
  const next = streams.map(() => 0);
  const requests: CorpusRequest[] = [];
  let left = streams.length * perApi;
  while (left > 0) {
    const k = rng.int(0, streams.length - 1);
    const stream = streams[k] as CorpusRequest[];
    const i = next[k] as number;
    if (i >= stream.length) continue;
    requests.push(stream[i] as CorpusRequest);
    next[k] = i + 1;
    left--;
  }
  return { apis: CORPUS_APIS, requests };
}
