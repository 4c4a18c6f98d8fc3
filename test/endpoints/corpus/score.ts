/**
 * Scores of predicted endpoints against true routes, parameter names ignored: exact match per
 * request and the adjusted Rand index of the grouping.
 */

/**
 * A template with anonymous parameters: `/users/{user_id}` and `/users/{id}` are both
 * `/users/{}`. A literal prefix glued to a parameter (`cus_{id}`, `AC{sid}`) is part of the value,
 * and parameters joined by `:`, `.` or `-` (`{name}:{port}`) are one value.
 */
export const normaliseTemplate = (template: string): string =>
  template
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/[A-Za-z0-9_]+\{\}/g, '{}')
    .replace(/\{\}(?:[-:.]\{\})+/g, '{}');

/** Adjusted Rand index of two labelings of the same items (Hubert & Arabie). */
export function adjustedRandIndex(truth: readonly string[], predicted: readonly string[]): number {
  const n = truth.length;
  if (n < 2) return 1;
  const pairs = (k: number): number => (k * (k - 1)) / 2;
  const cells = new Map<string, number>();
  const rows = new Map<string, number>();
  const cols = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const t = truth[i] as string;
    const p = predicted[i] as string;
    const key = `${t}\u0000${p}`;
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rows.set(t, (rows.get(t) ?? 0) + 1);
    cols.set(p, (cols.get(p) ?? 0) + 1);
  }
  let index = 0;
  for (const c of cells.values()) index += pairs(c);
  let a = 0;
  for (const c of rows.values()) a += pairs(c);
  let b = 0;
  for (const c of cols.values()) b += pairs(c);
  const expected = (a * b) / pairs(n);
  const max = (a + b) / 2;
  return max === expected ? 1 : (index - expected) / (max - expected);
}

export interface ApiScore {
  readonly api: string;
  readonly requests: number;
  readonly routes: number;
  readonly exact: number;
  readonly ari: number;
  readonly endpoints: number;
}

export interface Scores {
  readonly exactMicro: number;
  readonly exactMacro: number;
  readonly ariMacro: number;
  readonly perApi: readonly ApiScore[];
}

/** Scores of one run: `items` are (api, true route, predicted endpoint). */
export function score(items: readonly { api: string; route: string; endpoint: string }[]): Scores {
  const byApi = new Map<string, { truth: string[]; predicted: string[] }>();
  let hits = 0;
  for (const item of items) {
    let entry = byApi.get(item.api);
    if (entry === undefined) {
      entry = { truth: [], predicted: [] };
      byApi.set(item.api, entry);
    }
    const t = normaliseTemplate(item.route);
    const p = normaliseTemplate(item.endpoint);
    entry.truth.push(t);
    entry.predicted.push(p);
    if (t === p) hits++;
  }
  const perApi: ApiScore[] = [];
  for (const [api, { truth, predicted }] of byApi) {
    let ok = 0;
    for (let i = 0; i < truth.length; i++) if (truth[i] === predicted[i]) ok++;
    perApi.push({
      api,
      requests: truth.length,
      routes: new Set(truth).size,
      exact: ok / truth.length,
      ari: adjustedRandIndex(truth, predicted),
      endpoints: new Set(predicted).size,
    });
  }
  const mean = (f: (s: ApiScore) => number) =>
    perApi.reduce((s, a) => s + f(a), 0) / Math.max(1, perApi.length);
  return {
    exactMicro: hits / Math.max(1, items.length),
    exactMacro: mean((s) => s.exact),
    ariMacro: mean((s) => s.ari),
    perApi,
  };
}
