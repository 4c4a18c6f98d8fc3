import { RouteBook } from '../../pipeline/enrich/routes/route-book.ts';
import { CORPUS_APIS } from './corpus/apis.ts';
import { type CorpusRequest, generateCorpus } from './corpus/corpus.ts';
import { type Scores, score } from './corpus/score.ts';

export interface CorpusRun {
  readonly all: Scores;
  /** APIs looked at while the thresholds were chosen. */
  readonly tuned: Scores;
  /** APIs held out from tuning. */
  readonly heldOut: Scores;
  readonly book: RouteBook;
  readonly requests: readonly CorpusRequest[];
}

/**
 * Sends the corpus through a route book one request at a time, in arrival order, as the enricher
 * does (no `route` field, nothing declared), and scores the endpoints it gave.
 */
export function runCorpus(perApi: number, seed = 14): CorpusRun {
  const { requests } = generateCorpus(perApi, seed);
  const book = new RouteBook();
  const items = requests.map((r) => {
    const q = r.path.indexOf('?');
    const endpoint = book.endpoint(
      r.api,
      q === -1 ? r.path : r.path.slice(0, q),
      r.method,
      r.status,
      q === -1 ? null : r.path.slice(q + 1),
    );
    return { api: r.api, route: r.route, endpoint };
  });
  const tunedNames = new Set(CORPUS_APIS.filter((a) => a.tuned).map((a) => a.name));
  return {
    all: score(items),
    tuned: score(items.filter((i) => tunedNames.has(i.api))),
    heldOut: score(items.filter((i) => !tunedNames.has(i.api))),
    book,
    requests,
  };
}
