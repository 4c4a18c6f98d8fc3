import { barePath, pathSegments } from '../endpoint-template.ts';
import { HotCache } from '../hot-cache.ts';
import { LruCache } from '../lru-cache.ts';
import { DeclaredRoutes, normaliseRoute } from './declared-routes.ts';
import {
  addEndpointStats,
  type EndpointStats,
  isEndpointStats,
  nodeToJson,
  type RouteSnapshot,
  SNAPSHOT_FORMAT,
  trieFromJsonOrUndefined,
} from './route-snapshot.ts';
import { DEFAULT_MAX_NODES, RouteTrie } from './route-trie.ts';

export interface RouteBookOptions {
  /** This process in the stored snapshots: one object per worker, never shared. */
  readonly worker?: string;
  /** Projects whose routes are learned; the others get the per-segment rules. */
  readonly maxProjects?: number;
  /** Trie nodes per project (each ~100-200 bytes). */
  readonly maxNodesPerProject?: number;
  /** Endpoints counted per project for `shardline endpoints list`. */
  readonly maxEndpointsPerProject?: number;
  /** (project, path) → template answers kept. */
  readonly cacheSize?: number;
}

/** A path's template, with the version of the learned routes it was made with. */
interface Templated {
  readonly version: number;
  readonly template: string;
}

/** Paths a project keeps in its hot cache (~4 KB a project). */
const HOT_PATHS = 256;

class ProjectRoutes {
  /** What this worker learned: what it stores. */
  own: RouteTrie;
  /** What templates: this worker's learning plus the other workers' last snapshots. */
  view: RouteTrie;
  declared: DeclaredRoutes | undefined;
  readonly stats = new Map<string, EndpointStats>();
  changed = false;
  /** This worker's stored snapshot was taken in (at a start, or after a failed load). */
  ownTaken = false;
  /**
   * The paths templated last, by path, in front of the book's cache (which is keyed by project
   * and path: a new key string to build and hash for every request).
   */
  hot = new HotCache<Templated>(HOT_PATHS);

  constructor(maxNodes: number) {
    this.own = new RouteTrie(maxNodes);
    this.view = new RouteTrie(maxNodes);
  }
}

const bump = (counts: Record<string, number>, key: string, cap = 64): void => {
  const n = counts[key];
  if (n !== undefined) counts[key] = n + 1;
  else if (Object.keys(counts).length < cap) counts[key] = 1;
};

/** Templates longer than this are not counted in a project's endpoint statistics. */
const MAX_STATS_TEMPLATE_LENGTH = 1_024;

/**
 * Every project's endpoints, in the order of precedence: the app's `route` field, a declared
 * (imported) route, the learned routes, the per-segment rules. One book serves all shards of a
 * process; `endpoint` is synchronous and cached by (project, path), so templating stays far
 * below the cost of the rest of enrichment.
 *
 * Determinism: a template is a function of the path and the learned state at that moment. Two
 * workers agree once they have exchanged snapshots (`absorb`, every save interval); before
 * that, and while a project is young, the same path may be templated differently (the rules'
 * answer, then the learned one). `shardline endpoints retemplate` rewrites stored rows with the
 * current state.
 */
export class RouteBook {
  readonly worker: string;
  private readonly projects = new Map<string, ProjectRoutes>();
  private readonly cache: LruCache<string, Templated>;
  private readonly maxProjects: number;
  private readonly maxNodes: number;
  private readonly maxEndpoints: number;
  /**
   * The stored routes could not be loaded (at a start, say): until a load succeeds nothing is
   * stored, so that this worker's stored learning is not replaced by what it learned since, and
   * that load adds its stored learning to what it learned since instead of ignoring it.
   */
  private awaitingLoad = false;

  constructor(options: RouteBookOptions = {}) {
    this.worker = options.worker ?? 'local';
    this.maxProjects = options.maxProjects ?? 1_000;
    this.maxNodes = options.maxNodesPerProject ?? DEFAULT_MAX_NODES;
    this.maxEndpoints = options.maxEndpointsPerProject ?? 2_000;
    this.cache = new LruCache(options.cacheSize ?? 50_000);
  }

  private project(id: string): ProjectRoutes | undefined {
    let p = this.projects.get(id);
    if (p === undefined) {
      if (this.projects.size >= this.maxProjects) return undefined;
      p = new ProjectRoutes(this.maxNodes);
      this.projects.set(id, p);
    }
    return p;
  }

  /**
   * The endpoint of one request, learning from it. `path` is the redacted path (a query string is
   * ignored); `route` the app's own template, if it sent one.
   */
  endpoint(
    project: string,
    path: string,
    method: string,
    status: number,
    query: string | null,
    route?: string,
  ): string {
    const bare = barePath(path);
    const p = this.project(project);
    const segments = pathSegments(bare);
    let template: string;
    if (p === undefined) {
      template = new RouteTrie(1).template(segments).template;
    } else {
      // A 404 that would add a first-position value names no route: a scanner's probes
      // (`/wp-login.php`, `/.env`) would teach the project routes it does not have. Under a known
      // first segment 404s are learned (lookups by name, get-or-create). Each is still templated.
      if (status !== 404 || p.view.knowsFirst(segments)) {
        p.view.observe(segments);
        p.own.observe(segments);
        p.changed = true;
      }
      if (route !== undefined && route !== '') {
        template = normaliseRoute(route);
      } else {
        const declared = p.declared?.match(segments);
        template = declared ?? this.learned(p, project, bare, segments);
      }
      this.count(p, template, method, status, query);
    }
    return template;
  }

  private learned(p: ProjectRoutes, project: string, bare: string, segments: readonly string[]): string {
    const view = p.view;
    const quick = p.hot.get(bare);
    if (quick !== undefined && quick.version === view.version) return quick.template;
    const key = `${project}\u0000${bare}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.version === view.version) {
      p.hot.set(bare, hit);
      return hit.template;
    }
    const { template, cacheable } = view.template(segments);
    if (cacheable && bare.length <= 512) {
      const templated = { version: view.version, template };
      this.cache.set(key, templated);
      p.hot.set(bare, templated);
    }
    return template;
  }

  private count(
    p: ProjectRoutes,
    template: string,
    method: string,
    status: number,
    query: string | null,
  ): void {
    let s = p.stats.get(template);
    if (s === undefined) {
      // A template that long is a path nobody routes (thousands of segments), not an endpoint to
      // list; kept, 2,000 of them held ~440 MB a project.
      if (p.stats.size >= this.maxEndpoints || template.length > MAX_STATS_TEMPLATE_LENGTH) return;
      s = { template, count: 0, methods: {}, statuses: {}, query: {} };
      p.stats.set(template, s);
    }
    s.count++;
    bump(s.methods, method);
    bump(s.statuses, String(status));
    if (query !== null && query !== '') {
      for (const pair of query.split('&')) {
        const eq = pair.indexOf('=');
        const name = eq === -1 ? pair : pair.slice(0, eq);
        if (name !== '' && name.length <= 64) bump(s.query, name, 32);
      }
    }
  }

  /** Declared routes of a project (an imported OpenAPI document): exact for that project. */
  declare(project: string, templates: Iterable<string>): void {
    const p = this.project(project);
    if (p === undefined) return;
    p.declared = new DeclaredRoutes(templates);
    p.hot = new HotCache<Templated>(HOT_PATHS);
    this.cache.clear();
  }

  /** What this worker learned of a project, to store. */
  snapshot(project: string, now = new Date()): RouteSnapshot | undefined {
    const p = this.projects.get(project);
    if (p === undefined) return undefined;
    p.changed = false;
    return {
      format: SNAPSHOT_FORMAT,
      project,
      worker: this.worker,
      savedAt: now.toISOString(),
      trie: nodeToJson(p.own.root),
      endpoints: [...p.stats.values()],
    };
  }

  /** Projects learned since the last snapshot of each. */
  changedProjects(): string[] {
    if (this.awaitingLoad) return [];
    return [...this.projects].filter(([, p]) => p.changed).map(([id]) => id);
  }

  /**
   * Its own stored learning is not loaded (the load failed, or a restarted thread left it out):
   * store nothing until `loaded` (see `awaitingLoad`).
   */
  awaitLoad(): void {
    this.awaitingLoad = true;
  }

  /** Every stored project was absorbed: a load succeeded. */
  loaded(): void {
    this.awaitingLoad = false;
  }

  knownProjects(): string[] {
    return [...this.projects.keys()];
  }

  /**
   * Takes in stored snapshots of a project: this worker's own (after a restart: it continues
   * from it) and the other workers' (their learning joins the view that templates).
   */
  absorb(project: string, snapshots: readonly RouteSnapshot[]): void {
    const p = this.project(project);
    if (p === undefined) return;
    // A stored trie that does not parse (damaged, or written by something else) is left out.
    const parse = (s: RouteSnapshot) => trieFromJsonOrUndefined(s.trie, this.maxNodes);
    const mine = snapshots.find((s) => s.worker === this.worker);
    // Its own stored snapshot is taken once: later ones are what it stored itself.
    const stored = mine === undefined || p.ownTaken ? undefined : parse(mine);
    if (mine !== undefined && stored !== undefined) {
      p.ownTaken = true;
      const stats = mine.endpoints.filter(isEndpointStats);
      if (p.own.root.count === 0) {
        p.own = stored;
        for (const e of stats) if (!p.stats.has(e.template)) p.stats.set(e.template, e);
      } else if (this.awaitingLoad) {
        // Learned since a failed load: what was stored before is added to it, not replaced by it.
        p.own.merge(stored);
        for (const e of stats) {
          const held = p.stats.get(e.template);
          p.stats.set(e.template, held === undefined ? e : addEndpointStats(held, e));
        }
        p.changed = true;
      }
    }
    // The view is built the same way in every thread and worker: each worker's learning (this
    // one's as it is now, the others' as stored), in the order of their names, into an empty
    // trie. Merging into this worker's own trie instead kept the decisions it took on its share of
    // the traffic, so threads that had exchanged everything still templated differently.
    const tries: { worker: string; trie: RouteTrie }[] = [{ worker: this.worker, trie: p.own }];
    for (const s of snapshots) {
      if (s.worker === this.worker) continue;
      const trie = parse(s);
      if (trie !== undefined) tries.push({ worker: s.worker, trie });
    }
    tries.sort((a, b) => (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0));
    const view = new RouteTrie(this.maxNodes);
    for (const { trie } of tries) view.merge(trie);
    view.version = p.view.version + 1;
    p.view = view;
  }

  /** The current template of a stored endpoint or path, for re-templating history. */
  retemplate(project: string, path: string): string {
    const p = this.projects.get(project);
    const segments = pathSegments(barePath(path));
    if (p === undefined) return new RouteTrie(1).template(segments).template;
    return p.declared?.match(segments) ?? p.view.template(segments).template;
  }

  /** Trie nodes held by a project's view (for memory figures). */
  nodes(project: string): number {
    return this.projects.get(project)?.view.nodes ?? 0;
  }
}
