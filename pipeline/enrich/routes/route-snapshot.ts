import { countNodes, paramAfterKey, RouteTrie, type TrieNode } from './route-trie.ts';

/**
 * The stored form of a project's routes: what one worker learned (its trie and the endpoints it
 * counted) or what a team declared. JSON, one object per (project, worker) under
 * `_shardline/routes/<project>/`, so that workers never write the same object (see
 * `route-store.ts`).
 *
 * @example
 * {"format":"shardline.routes/1","project":"proj_storefront","worker":"host-a","savedAt":"2026-01-01T00:00:00.000Z",
 *  "trie":{"n":3,"e":0,"c":{"v1":{"n":3,"e":0,"c":{"users":{"n":3,"e":1,"w":{"":{"n":2,"e":2}}}}}}},
 *  "endpoints":[{"template":"/v1/users/{id}","count":2,"methods":{"GET":2},"statuses":{"200":2},"query":{}}]}
 */
export const SNAPSHOT_FORMAT = 'shardline.routes/1';

export interface NodeJson {
  n: number;
  e: number;
  p?: 1;
  r?: 1;
  c?: Record<string, NodeJson>;
  w?: Record<string, NodeJson>;
}

export interface EndpointStats {
  template: string;
  count: number;
  methods: Record<string, number>;
  statuses: Record<string, number>;
  /** Query parameter names seen, with counts. */
  query: Record<string, number>;
}

const isCounts = (v: unknown): v is Record<string, number> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((n) => typeof n === 'number');

/** Whether a stored endpoint entry has the shape `addEndpointStats` and the CLI read. */
export const isEndpointStats = (v: unknown): v is EndpointStats =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as EndpointStats).template === 'string' &&
  typeof (v as EndpointStats).count === 'number' &&
  isCounts((v as EndpointStats).methods) &&
  isCounts((v as EndpointStats).statuses) &&
  isCounts((v as EndpointStats).query);

/** The counts of two stats of one template added up (a new object; neither is changed). */
export const addEndpointStats = (a: EndpointStats, b: EndpointStats): EndpointStats => {
  const add = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, n] of Object.entries(y)) out[k] = (out[k] ?? 0) + n;
    return out;
  };
  return {
    template: a.template,
    count: a.count + b.count,
    methods: add(a.methods, b.methods),
    statuses: add(a.statuses, b.statuses),
    query: add(a.query, b.query),
  };
};

export interface RouteSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  project: string;
  worker: string;
  savedAt: string;
  trie: NodeJson;
  endpoints: EndpointStats[];
  /**
   * Only in the retired snapshot: the snapshots folded into it lately (worker and `savedAt`), so
   * that an upkeep that reads one of them before its deletion does not add it a second time.
   */
  folded?: FoldedSource[];
}

export interface FoldedSource {
  worker: string;
  savedAt: string;
  /** When it was folded: entries are kept for a day, far longer than an upkeep takes. */
  foldedAt: string;
}

export interface DeclaredSnapshot {
  format: typeof SNAPSHOT_FORMAT;
  project: string;
  source: string;
  savedAt: string;
  routes: { method: string; template: string }[];
}

export const nodeToJson = (node: TrieNode): NodeJson => {
  const out: NodeJson = { n: node.count, e: node.ends };
  if (node.param) out.p = 1;
  if (node.rest) out.r = 1;
  if (node.children !== undefined && node.children.size > 0) {
    out.c = {};
    for (const [k, v] of node.children) out.c[k] = nodeToJson(v);
  }
  if (node.wild !== undefined && node.wild.size > 0) {
    out.w = {};
    for (const [k, v] of node.wild) out.w[k] = nodeToJson(v);
  }
  return out;
};

export const nodeFromJson = (json: NodeJson, key?: string, parentKey?: string): TrieNode => ({
  key,
  parentKey,
  count: json.n,
  ends: json.e,
  param: json.p === 1,
  rest: json.r === 1,
  children:
    json.c === undefined
      ? undefined
      : new Map(Object.entries(json.c).map(([k, v]) => [k, nodeFromJson(v, k, key)])),
  wild:
    json.w === undefined ? undefined : new Map(Object.entries(json.w).map(([k, v]) => [k, nodeFromJson(v)])),
});

/** A trie from its stored form; the flags (`param`, `rest`) come back as they were decided. */
export const trieFromJson = (json: NodeJson, maxNodes?: number): RouteTrie => {
  const trie = new RouteTrie(maxNodes);
  trie.root = nodeFromJson(json);
  trie.nodes = countNodes(trie.root);
  const collect = (node: TrieNode): void => {
    const after = paramAfterKey(node);
    if (node.param && after !== undefined) trie.paramAfter.add(after);
    for (const c of node.children?.values() ?? []) collect(c);
    for (const c of node.wild?.values() ?? []) collect(c);
  };
  collect(trie.root);
  return trie;
};

/** `trieFromJson`, or undefined for a stored trie that does not parse (damaged, or written by something else). */
export const trieFromJsonOrUndefined = (json: NodeJson, maxNodes?: number): RouteTrie | undefined => {
  try {
    return trieFromJson(json, maxNodes);
  } catch {
    return undefined;
  }
};

export const isRouteSnapshot = (v: unknown): v is RouteSnapshot =>
  typeof v === 'object' &&
  v !== null &&
  (v as RouteSnapshot).format === SNAPSHOT_FORMAT &&
  typeof (v as RouteSnapshot).trie === 'object' &&
  Array.isArray((v as RouteSnapshot).endpoints);

export const isDeclaredSnapshot = (v: unknown): v is DeclaredSnapshot =>
  typeof v === 'object' &&
  v !== null &&
  (v as DeclaredSnapshot).format === SNAPSHOT_FORMAT &&
  Array.isArray((v as DeclaredSnapshot).routes);
