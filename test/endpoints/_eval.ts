import { barePath, pathSegments } from '../../pipeline/enrich/endpoint-template.ts';
import { RouteTrie } from '../../pipeline/enrich/routes/route-trie.ts';
import { generateCorpus } from './corpus/corpus.ts';
import { score } from './corpus/score.ts';

const c = generateCorpus(Number(process.argv[2] ?? 5000));
const tries = new Map<string, RouteTrie>();
const items = c.requests.map((r) => {
  let t = tries.get(r.api);
  if (!t) {
    t = new RouteTrie();
    tries.set(r.api, t);
  }
  const seg = pathSegments(barePath(r.path));
  t.observe(seg);
  return { api: r.api, route: r.route, endpoint: t.template(seg).template, path: r.path };
});
const s = score(items);
console.log(
  JSON.stringify({
    micro: s.exactMicro.toFixed(3),
    macro: s.exactMacro.toFixed(3),
    ari: s.ariMacro.toFixed(3),
  }),
);
for (const a of s.perApi)
  console.log(
    a.api.padEnd(16),
    a.routes,
    a.endpoints,
    a.exact.toFixed(3),
    a.ari.toFixed(3),
    tries.get(a.api)!.nodes,
  );
const want = process.argv[3];
if (want) {
  const bad = new Map<string, number>();
  for (const i of items.slice(items.length / 2))
    if (i.api === want) {
      const k = `${i.route}  =>  ${i.endpoint}`;
      if (i.route.replace(/\{[^}]*\}/g, '{}') !== i.endpoint.replace(/\{[^}]*\}/g, '{}'))
        bad.set(k, (bad.get(k) ?? 0) + 1);
    }
  for (const [k, n] of [...bad].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(n, k);
}
