import { LandError } from '../../errors.ts';
import type { ObjectStore } from '../../land/object-store.ts';
import type { RouteBook } from './route-book.ts';
import {
  addEndpointStats,
  type DeclaredSnapshot,
  type EndpointStats,
  type FoldedSource,
  isDeclaredSnapshot,
  isEndpointStats,
  isRouteSnapshot,
  nodeToJson,
  type RouteSnapshot,
  SNAPSHOT_FORMAT,
  trieFromJsonOrUndefined,
} from './route-snapshot.ts';
import { RouteTrie } from './route-trie.ts';

/**
 * Where learned and declared routes live: objects in the lake, beside (not in) `requests/`:
 *
 *   _shardline/routes/<project>/learned-<worker>.json   one per worker, written only by it
 *   _shardline/routes/<project>/declared.json           written by `shardline endpoints import`
 *
 * Why objects in the lake rather than the DynamoDB lease table: a project's trie is tens to
 * hundreds of kilobytes (over DynamoDB's 400 KB item limit for a big API), every deployment
 * already has the lake (the lease table exists only with `checkpoints.type: "dynamodb"`), and
 * the CLI reads it with the same store. Why one object per worker: the object store has no
 * conditional write, so two workers writing one object would lose each other's learning; with
 * one writer per object there is nothing to race, and readers merge the objects they list.
 */
export const ROUTES_PREFIX = '_shardline/routes/';

/**
 * A project id as one key segment. encodeURIComponent leaves `.` as it is, and `..` as a segment
 * names another directory (the local lake refuses any segment starting with a dot; S3 stores
 * them as written): a leading dot is escaped too.
 */
const encodeProject = (project: string): string => {
  const encoded = encodeURIComponent(project);
  return encoded.charCodeAt(0) === 46 ? `%2E${encoded.slice(1)}` : encoded;
};
const learnedKey = (project: string, worker: string): string =>
  `${ROUTES_PREFIX}${encodeProject(project)}/learned-${encodeURIComponent(worker)}.json`;
export const declaredKey = (project: string): string =>
  `${ROUTES_PREFIX}${encodeProject(project)}/declared.json`;

/**
 * The parsed object, or undefined when it is not JSON or is gone: a key listed a moment ago may
 * have been deleted since (another worker's upkeep folded it), which must not fail a whole load.
 */
const readJson = async (store: ObjectStore, key: string): Promise<unknown> => {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (!(await store.list(key)).includes(key)) return undefined;
    throw error;
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
};

const putJson = (store: ObjectStore, key: string, value: unknown): Promise<void> =>
  store.put(key, new TextEncoder().encode(JSON.stringify(value)));

/** Projects that have stored routes. */
export async function storedProjects(store: ObjectStore): Promise<string[]> {
  const keys = await store.list(ROUTES_PREFIX);
  const projects = new Set<string>();
  for (const key of keys) {
    const rest = key.slice(ROUTES_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash > 0) projects.add(decodeURIComponent(rest.slice(0, slash)));
  }
  return [...projects].sort();
}

/** Every worker's learned snapshot of a project (unreadable objects are skipped). */
export async function loadLearned(store: ObjectStore, project: string): Promise<RouteSnapshot[]> {
  const prefix = `${ROUTES_PREFIX}${encodeProject(project)}/learned-`;
  const out: RouteSnapshot[] = [];
  for (const key of await store.list(prefix)) {
    const v = await readJson(store, key);
    if (isRouteSnapshot(v)) out.push(v);
  }
  return out;
}

export async function loadDeclared(
  store: ObjectStore,
  project: string,
): Promise<DeclaredSnapshot | undefined> {
  const key = declaredKey(project);
  const keys = await store.list(key);
  if (!keys.includes(key)) return undefined;
  const v = await readJson(store, key);
  return isDeclaredSnapshot(v) ? v : undefined;
}

export const saveDeclared = (store: ObjectStore, snapshot: DeclaredSnapshot): Promise<void> =>
  putJson(store, declaredKey(snapshot.project), snapshot);

/** Endpoint counts of all workers' snapshots, added up per template. */
export function mergeEndpointStats(snapshots: readonly RouteSnapshot[]): EndpointStats[] {
  const merged = new Map<string, EndpointStats>();
  for (const s of snapshots) {
    for (const e of s.endpoints) {
      if (!isEndpointStats(e)) continue;
      const held = merged.get(e.template);
      merged.set(
        e.template,
        addEndpointStats(held ?? { template: e.template, count: 0, methods: {}, statuses: {}, query: {} }, e),
      );
    }
  }
  return [...merged.values()];
}

/** What the lake holds of one project's routes: its declared templates and every worker's learning. */
export interface RouteUpdate {
  readonly project: string;
  readonly declared?: readonly string[];
  readonly learned: readonly RouteSnapshot[];
}

/** Every stored project's routes, to take into one or more books (plain data: it crosses threads). */
export async function loadRouteUpdates(store: ObjectStore): Promise<RouteUpdate[]> {
  const updates: RouteUpdate[] = [];
  for (const project of await storedProjects(store)) {
    const declared = await loadDeclared(store, project);
    const learned = await loadLearned(store, project);
    updates.push({
      project,
      ...(declared === undefined
        ? {}
        : {
            declared: declared.routes
              .map((r: unknown) => (r as { template?: unknown } | null)?.template)
              .filter((t): t is string => typeof t === 'string'),
          }),
      learned,
    });
  }
  return updates;
}

/** Takes stored routes into a book: declared routes, its own earlier learning and the others'. */
export function applyRouteUpdates(book: RouteBook, updates: readonly RouteUpdate[]): void {
  for (const u of updates) {
    if (u.declared !== undefined) book.declare(u.project, u.declared);
    if (u.learned.length > 0) book.absorb(u.project, u.learned);
  }
  book.loaded();
}

/** Loads every stored project into a book: declared routes, this worker's and the others' learning. */
export async function loadRouteBook(book: RouteBook, store: ObjectStore): Promise<void> {
  applyRouteUpdates(book, await loadRouteUpdates(store));
}

/** What a book learned since its last save, one snapshot per changed project. */
export function changedSnapshots(book: RouteBook): RouteSnapshot[] {
  const out: RouteSnapshot[] = [];
  for (const project of book.changedProjects()) {
    const snapshot = book.snapshot(project);
    if (snapshot !== undefined) out.push(snapshot);
  }
  return out;
}

/** Stores learned snapshots, each under its worker's own object. */
export async function storeLearned(store: ObjectStore, snapshots: readonly RouteSnapshot[]): Promise<void> {
  for (const snapshot of snapshots) {
    try {
      await putJson(store, learnedKey(snapshot.project, snapshot.worker), snapshot);
    } catch (cause) {
      throw new LandError(
        `routes: could not store the learned routes of ${snapshot.project}; retried at the next sync`,
        { cause },
      );
    }
  }
}

/**
 * Takes in the other workers' and any newly declared routes, then stores what this worker learned
 * since its last save (a book whose start-up load failed first adds its stored learning in).
 * Run periodically and once at shutdown; failures are retried next time.
 */
export async function syncRouteBook(book: RouteBook, store: ObjectStore): Promise<void> {
  await loadRouteBook(book, store);
  await storeLearned(store, changedSnapshots(book));
}

/**
 * The worker name of the snapshot that keeps, per project, what workers gone quiet had learned
 * (`learned-%28retired%29.json`). No host name holds parentheses.
 */
export const RETIRED_WORKER = '(retired)';

const isFoldedSource = (v: unknown): v is FoldedSource =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as FoldedSource).worker === 'string' &&
  typeof (v as FoldedSource).savedAt === 'string' &&
  typeof (v as FoldedSource).foldedAt === 'string';

/** How long the retired snapshot lists a folded snapshot (see `RouteSnapshot.folded`). */
const FOLDED_KEPT_MS = 86_400_000;

export interface LearnedUpkeep {
  /** Own snapshots saved again so that they never look quiet. */
  readonly refreshed: number;
  /** Quiet workers' snapshots folded into the retired one and deleted. */
  readonly retired: number;
}

/**
 * Keeps the learned-route objects from growing with every deployment: each new host (a container,
 * an instance) writes its own `learned-<host>.t<slot>.json`, and every sync lists and reads them
 * all. Per project:
 * - a snapshot of one of `ownWorkers` saved more than `retireAfterMs / 4` ago is saved again with
 *   the time now (a worker saves only what changed; one that learns nothing new stays alive);
 * - a snapshot of another worker saved more than `retireAfterMs` ago (its worker is gone) is
 *   folded into the retired snapshot (tries and endpoint counts added up, so no learning is
 *   lost), then deleted.
 * The retired snapshot lists what it folded lately, so two workers doing this at the same moment
 * never add one snapshot twice; they may still fold different sets, and then the later write of
 * the retired snapshot wins, so a quiet worker's learning can be lost once (traffic teaches it
 * again). Needs a store that can delete; without, nothing is done.
 */
export async function upkeepLearned(
  store: ObjectStore,
  options: { readonly nowMs: number; readonly retireAfterMs: number; readonly ownWorkers: readonly string[] },
): Promise<LearnedUpkeep> {
  const { nowMs, retireAfterMs } = options;
  if (store.delete === undefined) return { refreshed: 0, retired: 0 };
  const own = new Set(options.ownWorkers);
  const ageOf = (snapshot: RouteSnapshot): number => {
    const saved = Date.parse(snapshot.savedAt);
    return Number.isFinite(saved) ? nowMs - saved : Number.POSITIVE_INFINITY;
  };
  let refreshed = 0;
  let retired = 0;
  for (const project of await storedProjects(store)) {
    const quiet: { key: string; snapshot: RouteSnapshot }[] = [];
    let folded: RouteSnapshot | undefined;
    for (const key of await store.list(`${ROUTES_PREFIX}${encodeProject(project)}/learned-`)) {
      const snapshot = await readJson(store, key);
      if (!isRouteSnapshot(snapshot) || snapshot.project !== project) continue;
      if (snapshot.worker === RETIRED_WORKER) folded = snapshot;
      else if (own.has(snapshot.worker)) {
        if (ageOf(snapshot) > retireAfterMs / 4) {
          await putJson(store, key, { ...snapshot, savedAt: new Date(nowMs).toISOString() });
          refreshed += 1;
        }
      } else if (ageOf(snapshot) > retireAfterMs) quiet.push({ key, snapshot });
    }
    if (quiet.length === 0) continue;
    // Another worker's upkeep may have folded some of them already, and not yet deleted them.
    const source = (s: { worker: string; savedAt: string }) => `${s.worker}\n${s.savedAt}`;
    const lately = (Array.isArray(folded?.folded) ? folded.folded : []).filter(isFoldedSource);
    const done = new Set(lately.map(source));
    const fresh = quiet.filter((q) => !done.has(source(q.snapshot)));
    if (fresh.length > 0) {
      // A trie that does not parse is left out (a damaged retired one is started again).
      const trie =
        (folded === undefined ? undefined : trieFromJsonOrUndefined(folded.trie)) ?? new RouteTrie();
      for (const { snapshot } of fresh) {
        const other = trieFromJsonOrUndefined(snapshot.trie);
        if (other !== undefined) trie.merge(other);
      }
      const all = [...(folded === undefined ? [] : [folded]), ...fresh.map((q) => q.snapshot)];
      const foldedAt = new Date(nowMs).toISOString();
      await putJson(store, learnedKey(project, RETIRED_WORKER), {
        format: SNAPSHOT_FORMAT,
        project,
        worker: RETIRED_WORKER,
        savedAt: foldedAt,
        trie: nodeToJson(trie.root),
        endpoints: mergeEndpointStats(all),
        folded: [
          ...lately.filter((f) => nowMs - Date.parse(f.foldedAt) < FOLDED_KEPT_MS),
          ...fresh.map(({ snapshot }) => ({ worker: snapshot.worker, savedAt: snapshot.savedAt, foldedAt })),
        ],
      } satisfies RouteSnapshot);
    }
    // Deleted only once the retired snapshot holds them: a crash in between leaves them listed
    // as folded, so the next upkeep deletes them without adding them again.
    for (const { key } of quiet) await store.delete(key);
    retired += fresh.length;
  }
  return { refreshed, retired };
}
