/**
 * Routes a project declares (an imported OpenAPI document) or an app reports (the `route` field):
 * templates in `{param}` style, matched segment by segment. A declared route wins over anything
 * learned: it is exact by definition.
 */

/** A template in `{param}` style from Express (`/users/:id`, `*`), Fastify (`/files/*`) or OpenAPI. */
export function normaliseRoute(route: string): string {
  const bare = route.split('?')[0] ?? '';
  const out: string[] = [];
  for (const segment of bare.split('/')) {
    if (segment === '') continue;
    if (segment === '*' || segment === '(.*)' || segment === '**') {
      out.push('{path}');
      continue;
    }
    // `:id`, `:id?`, `:id(\\d+)`, `:file.json`, `:name-:version`: each named part becomes `{name}`.
    out.push(
      // `{name}:addRole` is OpenAPI with a custom method, not an Express parameter.
      (segment.includes('{')
        ? segment
        : segment.replace(/(^|[-.~]):([A-Za-z_$][\w$]*)(?:\([^)]*\))?[?+*]?/g, '$1{$2}')
      ).replace(/\{([^}]*)\}/g, (_, name: string) => `{${name.replace(/^[+*]|[+*]$/g, '') || 'param'}}`),
    );
  }
  return `/${out.join('/')}`;
}

interface MatchNode {
  literal: Map<string, MatchNode> | undefined;
  /** One-segment parameters by the literal text around them: `{}`, `{}.json`, `{}:addRole`. */
  params: { prefix: string; suffix: string; node: MatchNode }[] | undefined;
  /** A parameter taking the rest of the path (the last segment of a template, when it is a path). */
  rest: string | undefined;
  template: string | undefined;
}

const newMatchNode = (): MatchNode => ({
  literal: undefined,
  params: undefined,
  rest: undefined,
  template: undefined,
});

const REST_NAMES = /^(?:path|key|file|filepath|file_path|rest|wildcard|splat|proxy)$/i;

/** Declared templates of one project, matched against path segments (literals before parameters). */
export class DeclaredRoutes {
  private readonly root = newMatchNode();
  private readonly list: string[] = [];

  constructor(templates: Iterable<string> = []) {
    for (const t of templates) this.add(t);
  }

  get templates(): readonly string[] {
    return this.list;
  }

  add(template: string): void {
    const normalised = normaliseRoute(template);
    const segments = normalised.split('/').filter((s) => s !== '');
    let node = this.root;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i] as string;
      const open = segment.indexOf('{');
      if (open === -1) {
        node.literal ??= new Map();
        let next = node.literal.get(segment);
        if (next === undefined) {
          next = newMatchNode();
          node.literal.set(segment, next);
        }
        node = next;
        continue;
      }
      const close = segment.lastIndexOf('}');
      const name = segment.slice(open + 1, segment.indexOf('}', open));
      if (i === segments.length - 1 && open === 0 && close === segment.length - 1 && REST_NAMES.test(name)) {
        node.rest ??= normalised;
        return;
      }
      const prefix = segment.slice(0, open);
      const suffix = segment.slice(close + 1);
      node.params ??= [];
      let entry = node.params.find((p) => p.prefix === prefix && p.suffix === suffix);
      if (entry === undefined) {
        entry = { prefix, suffix, node: newMatchNode() };
        node.params.push(entry);
        // Longest literal text first: `{id}:addRole` before `{id}`.
        node.params.sort((a, b) => b.prefix.length + b.suffix.length - (a.prefix.length + a.suffix.length));
      }
      node = entry.node;
    }
    if (node.template === undefined) {
      node.template = normalised;
      this.list.push(normalised);
    }
  }

  /** The declared template of a path's segments, if one matches. */
  match(segments: readonly string[]): string | undefined {
    return this.matchFrom(this.root, segments, 0);
  }

  private matchFrom(node: MatchNode, segments: readonly string[], i: number): string | undefined {
    if (i === segments.length) return node.template ?? (node.rest !== undefined ? undefined : undefined);
    const segment = segments[i] as string;
    const literal = node.literal?.get(segment);
    if (literal !== undefined) {
      const found = this.matchFrom(literal, segments, i + 1);
      if (found !== undefined) return found;
    }
    for (const p of node.params ?? []) {
      if (
        segment.length > p.prefix.length + p.suffix.length &&
        segment.startsWith(p.prefix) &&
        segment.endsWith(p.suffix)
      ) {
        const found = this.matchFrom(p.node, segments, i + 1);
        if (found !== undefined) return found;
      }
    }
    return node.rest;
  }
}
