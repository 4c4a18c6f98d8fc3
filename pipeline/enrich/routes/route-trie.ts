import { classifySegmentAt, ID, isWeakId, isWeakValue, routeSuffix } from '../endpoint-template.ts';
import { flat } from '../flat-string.ts';

/**
 * The routes of one project, learned from its paths: a trie of path segments.
 *
 * Each node is a position after a prefix. Its literal children are the values seen there with
 * their counts (a capped set: the distinct-value sketch); its `wild` children (one per suffix, so
 * that `{id}` and `{id}.json` stay apart) hold what went through a parameter at this position.
 * A value the per-segment rules call an id (`42`, a UUID, `cus_…`) always goes to `wild`.
 *
 * A position becomes a parameter (`param`, sticky: its literal children are merged into `wild`)
 * when either
 * - many distinct values, individually rare, arrive there: at least `MIN_DISTINCT` literal values
 *   and a probability of a new value (Good-Turing: values seen once / values seen) of at least
 *   `MIN_NEW_RATE`, unless most values lead to a parameter themselves (they are collections:
 *   `/v1/customers/{id}`, `/v1/charges/{id}`); or
 * - the values share what follows them: at least `MIN_SHARED_CHILDREN` literal children appear
 *   under two or more of at least three values (`/namespaces/default/pods`,
 *   `/namespaces/kube-system/pods`): values of one parameter, not different routes.
 * Few frequent values stay literal (enums, sub-resources). A value that was frequent before its
 * position became a parameter stays literal (`/users/me`); new values after that are ids. A
 * parameter position whose next positions are parameters too and where requests end at several
 * depths becomes a `rest` parameter that spans the remaining segments (file paths, object keys).
 *
 * Templating walks the trie with the current state; positions it has not seen fall back on the
 * per-segment rules. So early traffic gets the rules' answer, and a path's template can change
 * once (literal → parameter) as evidence arrives; `shardline endpoints retemplate` rewrites
 * stored rows with the current state.
 *
 * The first position is judged more strictly: it holds an API's versions and top-level resources,
 * and a scanner's probes (`/wp-login.php`, `/.env`, `/{site}/wp-includes/…`) arrive there as many
 * rare values that share children. It decides nothing before `ROOT_MIN_TRAFFIC` requests, becomes
 * a parameter by sharing only when the sharing values carry `ROOT_SHARED_TRAFFIC` of its traffic
 * (the buckets of `/{bucket}/{key}`, tenants of `/{tenant}/api/…`; not a scan's few requests), keeps
 * every frequent word that shares nothing when it flips (`/login`, `/static/…`), and past
 * `MAX_CHILDREN` values forgets its rarest one to make room rather than become a parameter.
 *
 * A weak id (a dotted name, a date: see `isWeakId`) is literal once seen `WEAK_LITERAL_MIN` times
 * there; a date or an id with a format (`isWeakValue`) where the rules call it an id, only while
 * it is also a real share of its position's traffic (`WEAK_LITERAL_SHARE`): a few dated versions
 * are, a report's date among many or a polled `6226017239.json` are not. That share moves with
 * the traffic, so such templates are not cached (`TemplateResult.cacheable`); reaching the count
 * changes `version`, as any other decision.
 *
 * Memory is bounded: at most `MAX_CHILDREN` literal values per position (one more makes it a
 * parameter) and `maxNodes` nodes per project; past that budget, new prefixes are templated by
 * the rules and not learned (counted in `refused`).
 */

export const MIN_DISTINCT = 10;
export const MIN_NEW_RATE = 0.4;
export const MIN_SHARED_CHILDREN = 3;
export const MAX_CHILDREN = 128;
export const DEFAULT_MAX_NODES = 20_000;
/** A literal seen this share of a position's traffic when it becomes a parameter stays literal. */
const KEEP_LITERAL_SHARE = 0.2;
const KEEP_LITERAL_MIN = 8;
const REST_MIN_COUNT = 30;
const REST_MIN_END_SHARE = 0.1;
const SETTLE_EVERY = 512;
const WEAK_LITERAL_MIN = 3;
/** A weak id stays literal only while it is at least this share of its position's traffic. */
const WEAK_LITERAL_SHARE = 0.05;
/** Share of the first position's traffic that values sharing children must carry to make it a parameter. */
const ROOT_SHARED_TRAFFIC = 0.2;
/**
 * The same share when the first position is full (`MAX_CHILDREN` values): that many values are
 * evidence already, and forgetting the rarest ones has lost part of their traffic.
 */
const ROOT_FULL_SHARED_TRAFFIC = 0.05;
/** Requests the first position must have seen before it may become a parameter at all. */
const ROOT_MIN_TRAFFIC = 30;
/** A first-position value seen this often or less may be forgotten to make room for a new one. */
const ROOT_EVICT_MAX_COUNT = 2;
const MAX_PARAM_AFTER = 1_000;
/**
 * Positions learned per path. Real routes are a dozen segments deep at most; a path of thousands
 * (valid under the path length limit) would nest the trie as deep, and a tree that deep cannot be
 * sent between threads or stored. Deeper positions are templated by the rules, as unlearned ones.
 */
export const MAX_LEARNED_DEPTH = 32;
const VERSION_KEY = /^v\d+(?:[a-z]+\d*)?$/i;

export interface TrieNode {
  /** The literal value this node stands for, when it is a literal child. */
  key: string | undefined;
  /** The literal value of the position before it (undefined under the root or a parameter). */
  parentKey: string | undefined;
  /** Requests that reached this position. */
  count: number;
  /** Requests whose path ended here. */
  ends: number;
  /** The next position is a parameter. */
  param: boolean;
  /** This (wild) node stands for the rest of the path, however many segments. */
  rest: boolean;
  children: Map<string, TrieNode> | undefined;
  /** Parameter children by suffix: `''`, `.json`, `:addRole`. */
  wild: Map<string, TrieNode> | undefined;
}

const newNode = (key?: string, parentKey?: string): TrieNode => ({
  key,
  parentKey,
  count: 0,
  ends: 0,
  param: false,
  rest: false,
  children: undefined,
  wild: undefined,
});

/** The suffix a parameter keeps: `.json` of `{id}.json`, `:addRole` of `{id}:addRole`. */
const suffixOfValue = routeSuffix;
const suffixOfTemplate = routeSuffix;

/**
 * A value whose next position holds ids (`customers` of `/customers/{id}`): a collection, so a
 * literal. Its next position is a parameter, takes most of its traffic as ids, or has many
 * distinct rare values.
 */
const looksCollection = (node: TrieNode): boolean => {
  if (node.param) return true;
  let wild = 0;
  for (const w of node.wild?.values() ?? []) wild += w.count;
  if (wild * 2 >= node.count - node.ends && wild > 0) return true;
  const children = node.children;
  if (children === undefined || children.size < 5) return false;
  let once = 0;
  for (const c of children.values()) if (c.count <= 1) once++;
  return once / (node.count - node.ends) >= 0.3;
};

export interface TemplateResult {
  readonly template: string;
  /** Every position was known to the trie (the template will not change by more learning of this path). */
  readonly known: boolean;
  /**
   * The template changes only with `version`: false when a weak id's share of traffic decided a
   * position, which moves with every request.
   */
  readonly cacheable: boolean;
}

/**
 * The key of `paramAfter` for a literal: the literal with the one before it (`v1/namespaces`), so
 * that `/v1/users/{name}` says nothing of `/v1/admin/users/settings`, while `namespaces` after
 * `v1` learns from `/api/v1/namespaces/{ns}` for `/apis/apps/v1/namespaces/{ns}`.
 */
export const paramAfterKey = (node: TrieNode): string | undefined =>
  node.key === undefined ? undefined : `${node.parentKey ?? ''}\u0000${node.key}`;

/** One project's learned routes. */
export class RouteTrie {
  root: TrieNode = newNode();
  nodes = 1;
  /** Literals followed by a parameter somewhere in the trie (`paramAfterKey`): `v1/namespaces`, `repos`. */
  readonly paramAfter = new Set<string>();
  /** Changes whenever a decision changes templates (a new parameter or rest position). */
  version = 0;
  /** Paths whose new positions could not be learned because of the node budget. */
  refused = 0;

  constructor(readonly maxNodes = DEFAULT_MAX_NODES) {}

  /** Learns one path (its segments, already split and redacted). */
  observe(segments: readonly string[]): void {
    if (segments.length > MAX_LEARNED_DEPTH) {
      this.refused++;
      return;
    }
    let node = this.root;
    let parent: TrieNode | undefined;
    node.count++;
    for (let i = 0; i < segments.length; i++) {
      if (node.rest) break;
      const segment = segments[i] as string;
      const literal = node.children?.get(segment);
      let next: TrieNode | undefined;
      if (literal !== undefined) {
        next = literal;
      } else if (node.param) {
        next = this.wildChild(node, suffixOfValue(segment));
      } else {
        const ruled = classifySegmentAt(segment, i);
        if (ruled.includes('{') && !isWeakId(segment)) next = this.wildChild(node, suffixOfTemplate(ruled));
        else {
          next = this.literalChild(node, segment);
          // The values of the parent's position may share children now.
          if (parent !== undefined && !parent.param && parent.children !== undefined) this.decide(parent);
          if (node.param && next !== undefined && node.children?.get(segment) !== next) {
            next = wildFor(node, suffixOfValue(segment));
          }
        }
      }
      if (next === undefined) {
        this.refused++;
        return;
      }
      next.count++;
      // A weak id turns literal at this count (see `template`): answers cached before are stale.
      if (next.count === WEAK_LITERAL_MIN && next.key !== undefined && isWeakId(next.key)) this.version++;
      parent = node;
      node = next;
    }
    node.ends++;
    this.maybeRest(node);
  }

  /**
   * The path's first segment is already known here: a learned value, an id by the rules, or the
   * first position is a parameter. A request that would add a first-position value is the one a
   * 404 must not teach (a scanner's `/wp-login.php`); below a known one it may (a get-or-create
   * API's `/api/v1/namespaces/default/configmaps/new-name`).
   */
  knowsFirst(segments: readonly string[]): boolean {
    const first = segments[0];
    if (first === undefined || this.root.param || this.root.children?.has(first) === true) return true;
    return classifySegmentAt(first, 0).includes('{') && !isWeakId(first);
  }

  /** The template of a path with what is learned now. */
  template(segments: readonly string[]): TemplateResult {
    let node: TrieNode | undefined = this.root;
    let out = '';
    let known = true;
    let cacheable = true;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      if (node === undefined) {
        known = false;
        out += `/${classifySegmentAt(segment, i)}`;
        continue;
      }
      if (node.rest) return { template: flat(out), known, cacheable };
      const literal: TrieNode | undefined = node.children?.get(segment);
      // A weak id (a domain, a date) is literal while it is seen often there, and a real share of it.
      let isLiteral = literal !== undefined;
      if (literal !== undefined && isWeakId(segment)) {
        isLiteral = literal.count >= WEAK_LITERAL_MIN;
        if (isLiteral && isWeakValue(segment) && classifySegmentAt(segment, i).includes('{')) {
          cacheable = false;
          if (literal.count < (node.count - node.ends) * WEAK_LITERAL_SHARE) {
            // A parameter here; what was learned below it still templates the rest.
            out += `/${ID}${suffixOfTemplate(classifySegmentAt(segment, i))}`;
            node = literal;
            continue;
          }
        }
      }
      if (literal !== undefined && isLiteral) {
        out += `/${segment}`;
        node = literal;
        continue;
      }
      // A `{name}` segment (a template passed back in) goes where parameters go.
      const isParam = segment.charCodeAt(0) === 123 && segment.includes('}');
      const ruled = isParam ? segment : classifySegmentAt(segment, i);
      if (node.param || ruled.includes('{')) {
        const suffix = node.param && !isParam ? suffixOfValue(segment) : suffixOfTemplate(ruled);
        const wild = wildFor(node, suffix);
        out += wild?.rest === true ? `/${ID}` : `/${ID}${suffix}`;
        node = wild;
        continue;
      }
      out += `/${segment}`;
      node = undefined;
      known = false;
    }
    return { template: out === '' ? '/' : flat(out), known, cacheable };
  }

  /** Adds what another trie learned (another worker's, or a stored copy) to this one. */
  merge(other: RouteTrie): void {
    this.mergeInto(this.root, other.root, true);
    this.nodes = countNodes(this.root);
    for (const key of other.paramAfter) if (this.paramAfter.size < MAX_PARAM_AFTER) this.paramAfter.add(key);
    this.version++;
  }

  /**
   * Adds `from`'s counts and positions to `into`. `bounded` (another trie merged in: a worker's
   * view is every worker's learning together) keeps the node budget: a position that would take a
   * node past `maxNodes` is left out with what is under it, and its paths are templated by the
   * rules, as a trie's own refused paths are. Four workers' full tries made an 80,000-node view,
   * and half a second per exchange. A position's own flip to a parameter is not bounded: it
   * gathers nodes that are already counted.
   */
  private mergeInto(into: TrieNode, from: TrieNode, bounded = false): void {
    into.count += from.count;
    into.ends += from.ends;
    if (from.rest) into.rest = true;
    if (from.children !== undefined) {
      for (const [key, child] of from.children) {
        if (into.param && into.children?.has(key) !== true) {
          const wild = this.wildForMerge(into, suffixOfValue(key), bounded);
          if (wild !== undefined) this.mergeInto(wild, child, bounded);
        } else {
          let mine = into.children?.get(key);
          if (mine === undefined) {
            if (bounded && this.nodes >= this.maxNodes) continue;
            mine = newNode(key, into.key);
            this.nodes++;
            into.children ??= new Map();
            into.children.set(key, mine);
          }
          this.mergeInto(mine, child, bounded);
        }
      }
    }
    if (from.wild !== undefined) {
      for (const [suffix, child] of from.wild) {
        const wild = this.wildForMerge(into, suffix, bounded);
        if (wild !== undefined) this.mergeInto(wild, child, bounded);
      }
    }
    if (from.param && !into.param) this.makeParam(into);
    else if (!into.param) this.decide(into);
  }

  /** The wild child a merge goes into: made when missing, unless a bounded merge is out of budget. */
  private wildForMerge(node: TrieNode, suffix: string, bounded: boolean): TrieNode | undefined {
    const wild = node.wild?.get(suffix);
    if (wild !== undefined || !bounded || this.nodes < this.maxNodes)
      return wild ?? this.ensureWild(node, suffix);
    return undefined;
  }

  private ensureWild(node: TrieNode, suffix: string): TrieNode {
    let wild = node.wild?.get(suffix);
    if (wild === undefined) {
      wild = newNode();
      this.nodes++;
      node.wild ??= new Map();
      node.wild.set(suffix, wild);
    }
    return wild;
  }

  private wildChild(node: TrieNode, suffix: string): TrieNode | undefined {
    const wild = wildFor(node, suffix);
    if (wild !== undefined) return wild;
    if (this.nodes >= this.maxNodes) return undefined;
    return this.ensureWild(node, suffix);
  }

  private literalChild(node: TrieNode, segment: string): TrieNode | undefined {
    if (this.nodes >= this.maxNodes) return undefined;
    // The first position full: its values are a parameter if they share what follows them and
    // carry a real part of the traffic (tenants); otherwise the rarest is forgotten (probes).
    if (node === this.root && node.children !== undefined && node.children.size >= MAX_CHILDREN) {
      if (this.sharesChildren(node.children) && this.sharersCarry(node, ROOT_FULL_SHARED_TRAFFIC)) {
        this.makeParam(node, true);
        return this.wildChild(node, suffixOfValue(segment));
      }
      if (!this.forgetRarest(node)) return undefined;
    }
    const child = newNode(segment, node.key);
    this.nodes++;
    node.children ??= new Map();
    node.children.set(segment, child);
    if (node.children.size > MAX_CHILDREN) {
      this.makeParam(node);
      return this.wildChild(node, suffixOfValue(segment));
    }
    this.decide(node);
    // A decision may have merged the new child away.
    return node.param ? this.wildChild(node, suffixOfValue(segment)) : child;
  }

  /** Forgets the rarest literal value of a position, if one is rare enough; false if none is. */
  private forgetRarest(node: TrieNode): boolean {
    let rarest: [string, TrieNode] | undefined;
    for (const entry of node.children ?? [])
      if (rarest === undefined || entry[1].count < rarest[1].count) rarest = entry;
    if (rarest === undefined || rarest[1].count > ROOT_EVICT_MAX_COUNT) return false;
    node.children?.delete(rarest[0]);
    this.nodes -= countNodes(rarest[1]);
    return true;
  }

  /** Called when a position gains a new literal value: is it a parameter now? */
  private decide(node: TrieNode): void {
    const children = node.children;
    if (children === undefined || children.size < 2) return;
    if (node === this.root && node.count - node.ends < ROOT_MIN_TRAFFIC) return;
    // What follows this literal was a parameter elsewhere in the project (`v1/namespaces/{}`): two values do.
    const after = paramAfterKey(node);
    if (after !== undefined && this.paramAfter.has(after)) {
      let collections = 0;
      for (const child of children.values()) if (looksCollection(child)) collections++;
      if (collections === 0) {
        this.makeParam(node);
        return;
      }
    }
    if (children.size < 3) return;
    if (
      this.sharesChildren(children) &&
      (node !== this.root || this.sharersCarry(node, ROOT_SHARED_TRAFFIC))
    ) {
      let collections = 0;
      for (const child of children.values()) if (looksCollection(child)) collections++;
      if (collections / children.size < 0.3) {
        this.makeParam(node, true);
        return;
      }
    }
    if (children.size < MIN_DISTINCT) return;
    let seen = 0;
    let once = 0;
    let collections = 0;
    for (const child of children.values()) {
      seen += child.count;
      if (child.count <= 1) once++;
      if (looksCollection(child)) collections++;
    }
    if (once / seen >= MIN_NEW_RATE && collections / children.size < 0.3) this.makeParam(node);
  }

  /**
   * Do the values share what follows them: at least `MIN_SHARED_CHILDREN` literal children under
   * two or more of at least three values, or one child under nearly all of at least four
   * (`/zones/us-east-1/instances`, `/zones/eu-west-1/instances`)? Versions are not counted: `v1`
   * under several API groups says nothing.
   */
  private sharesChildren(children: Map<string, TrieNode>): boolean {
    const seenUnder = new Map<string, number>();
    let parents = 0;
    for (const child of children.values()) {
      if (child.children === undefined || looksCollection(child)) continue;
      parents++;
      for (const key of child.children.keys()) {
        if (VERSION_KEY.test(key)) continue;
        seenUnder.set(key, (seenUnder.get(key) ?? 0) + 1);
      }
    }
    if (parents < 3) return false;
    let shared = 0;
    let widest = 0;
    for (const n of seenUnder.values()) {
      if (n >= 2) shared++;
      if (n > widest) widest = n;
    }
    return shared >= MIN_SHARED_CHILDREN || (parents >= 4 && widest >= parents * 0.75);
  }

  /**
   * Do the first position's values that share what follows them (a next value under three or more
   * of them) carry at least `share` of the traffic its values hold? The buckets of `/{bucket}/{key}`
   * do; a scanner's `/{site}/wp-includes/wlwmanifest.xml`, a few requests among an API's, does not.
   */
  private sharersCarry(root: TrieNode, share: number): boolean {
    const sharers = (child: TrieNode): boolean => child.children !== undefined && !looksCollection(child);
    const parents = new Map<string, number>();
    for (const child of root.children?.values() ?? []) {
      if (!sharers(child)) continue;
      for (const key of child.children?.keys() ?? []) parents.set(key, (parents.get(key) ?? 0) + 1);
    }
    let carried = 0;
    let held = 0;
    for (const child of root.children?.values() ?? []) {
      held += child.count;
      if (!sharers(child)) continue;
      for (const key of child.children?.keys() ?? []) {
        if ((parents.get(key) ?? 0) >= 3) {
          carried += child.count;
          break;
        }
      }
    }
    // Of the traffic its values hold now: forgotten values took theirs with them.
    return carried >= held * share;
  }

  private makeParam(node: TrieNode, bySharing = false): void {
    node.param = true;
    this.version++;
    const after = paramAfterKey(node);
    if (after !== undefined && this.paramAfter.size < MAX_PARAM_AFTER) this.paramAfter.add(after);
    const children = node.children;
    if (children === undefined) return;
    let kept: Map<string, TrieNode> | undefined;
    const total = node.count;
    const grandchildren = new Map<string, number>();
    for (const child of children.values())
      for (const key of child.children?.keys() ?? [])
        grandchildren.set(key, (grandchildren.get(key) ?? 0) + 1);
    // A frequent value whose own children are like the others' is one more value (`prod`), not `me`.
    const sharesWithOthers = (child: TrieNode): boolean => {
      for (const key of child.children?.keys() ?? []) if ((grandchildren.get(key) ?? 0) > 1) return true;
      return false;
    };
    for (const [key, child] of children) {
      // At the first position any frequent word stays (`/api/…` beside `/{locale}/pricing`).
      const frequent =
        child.count >= KEEP_LITERAL_MIN && (node === this.root || child.count >= total * KEEP_LITERAL_SHARE);
      const word = !classifySegmentAt(key, 1).includes('{');
      // Collections (`/store/products/{handle}` beside `/store/{lang}/pages`) stay literal too.
      // Values that share children were the evidence; the other literals beside them keep their routes.
      const keep = bySharing
        ? !sharesWithOthers(child) &&
          (node === this.root
            ? child.count >= KEEP_LITERAL_MIN
            : child.count >= 2 &&
              (child.children === undefined || child.children.size <= 2 || looksCollection(child)))
        : (frequent && !sharesWithOthers(child)) || (child.count >= 3 && looksCollection(child));
      if (word && keep) {
        kept ??= new Map();
        kept.set(key, child);
        continue;
      }
      this.mergeInto(this.ensureWild(node, suffixOfValue(key)), child);
    }
    node.children = kept;
    // Merging copied the merged subtrees: count what is left (flips are rare).
    this.nodes = countNodes(this.root);
  }

  /**
   * A parameter position whose next positions are parameters too and where paths end at two or
   * more depths holds one value with slashes (a file path, an object key, a branch name).
   */
  private maybeRest(_end: TrieNode): void {
    if (++this.sinceSettle >= SETTLE_EVERY) this.settle();
  }

  private sinceSettle = 0;

  /**
   * Applies the rest rule top-down (the first position of a chain of parameters starts the rest),
   * never at the first segment: that is an API's version or first resource.
   */
  settle(): void {
    this.sinceSettle = 0;
    for (const child of this.root.children?.values() ?? []) this.settleNode(child);
    for (const wild of this.root.wild?.values() ?? []) this.settleNode(wild);
  }

  private settleNode(node: TrieNode): void {
    if (node.wild !== undefined) {
      for (const wild of node.wild.values()) {
        if (!wild.rest && this.looksRest(wild)) {
          this.makeRest(wild);
          // A rest parameter takes every value, whatever it ends with.
          for (const [suffix, other] of node.wild) {
            if (other === wild) continue;
            wild.count += other.count;
            node.wild.delete(suffix);
          }
          node.wild.delete('');
          node.wild.set('', wild);
          this.nodes = countNodes(this.root);
          return;
        }
        this.settleNode(wild);
      }
    }
    if (node.children !== undefined) for (const child of node.children.values()) this.settleNode(child);
  }

  private looksRest(wild: TrieNode): boolean {
    if (wild.count < REST_MIN_COUNT || wild.ends < wild.count * REST_MIN_END_SHARE) return false;
    if (!wild.param || wild.children !== undefined) return false;
    const next = wild.wild?.get('');
    if (next === undefined || next.count < wild.count * REST_MIN_END_SHARE) return false;
    // Paths end one further, and the one after is a parameter too or the end.
    return next.ends >= wild.count * REST_MIN_END_SHARE && (next.param || next.count === next.ends);
  }

  private makeRest(wild: TrieNode): void {
    wild.rest = true;
    this.version++;
    const drop = (n: TrieNode): number => {
      let k = 0;
      for (const c of n.children?.values() ?? []) k += 1 + drop(c);
      for (const c of n.wild?.values() ?? []) k += 1 + drop(c);
      return k;
    };
    this.nodes -= drop(wild);
    wild.children = undefined;
    wild.wild = undefined;
    wild.param = false;
    wild.ends = wild.count;
  }
}

/** The parameter child for a value with this suffix; a rest parameter takes all. */
const wildFor = (node: TrieNode, suffix: string): TrieNode | undefined => {
  const wild = node.wild;
  if (wild === undefined) return undefined;
  const plain = wild.get('');
  if (plain?.rest === true) return plain;
  return suffix === '' ? plain : wild.get(suffix);
};

/** Counts of a trie's nodes below (and including) `node`. */
export const countNodes = (node: TrieNode): number => {
  let k = 1;
  for (const c of node.children?.values() ?? []) k += countNodes(c);
  for (const c of node.wild?.values() ?? []) k += countNodes(c);
  return k;
};
