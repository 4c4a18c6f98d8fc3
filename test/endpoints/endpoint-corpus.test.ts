import { describe, expect, it } from 'vitest';
import { runCorpus } from './run-corpus.ts';

describe('endpoint templates of the evaluation corpus, learned online in arrival order', () => {
  it('scores exact match >= 0.90 (micro), ARI >= 0.93 (macro), no API below 0.80', () => {
    // Act
    const run = runCorpus(5_000);

    // Assess
    const line = (s: typeof run.all) => ({
      exactMicro: Number(s.exactMicro.toFixed(3)),
      exactMacro: Number(s.exactMacro.toFixed(3)),
      ariMacro: Number(s.ariMacro.toFixed(3)),
    });
    console.log(
      JSON.stringify({
        all: line(run.all),
        tuned: line(run.tuned),
        heldOut: line(run.heldOut),
        perApi: run.all.perApi.map((a) => ({
          api: a.api,
          exact: +a.exact.toFixed(3),
          ari: +a.ari.toFixed(3),
        })),
      }),
    );
    expect(run.all.exactMicro).toBeGreaterThanOrEqual(0.9);
    expect(run.all.ariMacro).toBeGreaterThanOrEqual(0.93);
    for (const api of run.all.perApi) expect(api.exact, api.api).toBeGreaterThanOrEqual(0.8);
  });

  it('gives the same templates after a restart from the stored snapshot', async () => {
    // Prepare
    const { RouteBook } = await import('../../pipeline/enrich/routes/route-book.ts');
    const run = runCorpus(1_000);
    const api = 'github-like';
    const snapshot = run.book.snapshot(api);
    if (snapshot === undefined) throw new Error('no snapshot');
    const restarted = new RouteBook();

    // Act
    restarted.absorb(api, [JSON.parse(JSON.stringify(snapshot))]);

    // Assess
    const paths = run.requests.filter((r) => r.api === api).map((r) => r.path.split('?')[0] as string);
    for (const path of paths.slice(-200))
      expect(restarted.retemplate(api, path)).toBe(run.book.retemplate(api, path));
  });
});
