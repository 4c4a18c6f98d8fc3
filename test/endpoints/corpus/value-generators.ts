/**
 * Values for the parameters of the evaluation corpus, by kind. Each kind draws from a pool of
 * generated values with Zipf-like popularity, so that popular owners, namespaces or products
 * repeat the way they do in real traffic, while most values are rare.
 */

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }
}

/** Cumulative Zipf weights over `n` ranks with exponent `s`, for `zipfIndex`. */
export const zipfTable = (n: number, s: number): Float64Array => {
  const cum = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += 1 / (i + 1) ** s;
    cum[i] = total;
  }
  for (let i = 0; i < n; i++) cum[i] = (cum[i] as number) / total;
  return cum;
};

export const zipfIndex = (cum: Float64Array, u: number): number => {
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((cum[mid] as number) < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';

const WORDS =
  'alpha amber apple arrow aspen atlas aurora autumn badger bamboo beacon birch blaze bloom breeze brook cactus canyon cedar cherry cinder citrus clover cobalt comet coral cosmos crane crimson crystal cypress dawn delta desert dune eagle echo ember falcon fern fjord flame forest fox frost galaxy garnet glacier granite harbor hazel heron horizon indigo iris ivory jade jasmine juniper kelp lagoon lark lava lemon lilac lotus lunar maple marble meadow mesa mint mist moss nebula nova oak ocean olive onyx orbit orchid otter pebble pepper pine planet plum polar prairie prism quartz rain raven reef ridge river robin ruby rust sage salmon sand sapphire shadow sierra silver sky slate snow solar spruce star stone storm summit sun swift tango teal thunder tide tiger timber topaz trail tulip tundra valley velvet violet willow wind winter wolf zephyr'.split(
    ' ',
  );
const TECH =
  'api app auth billing cache cli client core dashboard data db deploy docs engine gateway graph infra kit lib log metrics mobile monitor net node parser platform plugin proxy queue react router runtime sdk server service shop site store stream sync tools ui utils vue web worker'.split(
    ' ',
  );
const FIRST =
  'anna ben carla david elena felix grace hugo ines jonas kira leo maria nina oscar paula quinn rosa sam tara uma victor wendy xavier yara zoe'.split(
    ' ',
  );
const LAST =
  'smith garcia muller rossi novak kim tanaka silva dubois jensen ivanov khan nguyen cohen olsen patel'.split(
    ' ',
  );
const TLDS = ['com', 'io', 'dev', 'net', 'org', 'co.uk', 'de', 'app'];
const EMOJI = ['🚀', '🎉', '✅', '🔥', '😀', '🌍', 'café', 'naïve', 'über', '東京', 'niño'];
const EXT = ['md', 'ts', 'js', 'json', 'txt', 'png', 'yaml', 'go', 'py', 'csv'];
const DIRS = [
  'src',
  'lib',
  'docs',
  'test',
  'assets',
  'config',
  'scripts',
  'images',
  'data',
  'build',
  'pkg',
  'internal',
];
const COUNTRIES =
  'US GB DE FR ES IT NL SE NO DK FI PL CZ AT CH BE IE PT GR JP KR CN IN BR MX AR CA AU NZ ZA NG EG KE TR IL AE SG MY TH VN ID PH'.split(
    ' ',
  );
const LANGS = 'en fr de es it pt nl sv ja ko zh ru pl tr ar'.split(' ');
const NAMESPACES =
  'default kube-system kube-public monitoring ingress-nginx cert-manager payments checkout search team-a team-b staging prod data-platform'.split(
    ' ',
  );
const BRANCH_PREFIX = ['feature', 'fix', 'release', 'chore', 'dependabot/npm_and_yarn', 'hotfix'];
const REGIONS =
  'us-east-1 us-west-2 eu-west-1 eu-central-1 ap-southeast-1 ap-northeast-1 sa-east-1 ca-central-1'.split(
    ' ',
  );
const CURRENCIES = 'usd eur gbp jpy chf cad aud sek nok dkk pln czk'.split(' ');
const PLANS = 'free starter pro business enterprise'.split(' ');

const slug = (r: Rng): string => {
  const n = r.int(2, 4);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(r.pick(WORDS));
  return parts.join('-');
};

const fileName = (r: Rng): string =>
  `${r.pick([...WORDS, ...TECH, 'README', 'index', 'main'])}.${r.pick(EXT)}`;

/** Generators by kind; each call makes a new value (pools below make them repeat). */
const MAKERS: Record<string, (r: Rng) => string> = {
  num: (r) => String(r.int(1, r.next() < 0.5 ? 9_999 : 99_999_999)),
  small: (r) => String(r.int(1, 400)),
  uuid: (r) =>
    `${r.chars(HEX, 8)}-${r.chars(HEX, 4)}-4${r.chars(HEX, 3)}-a${r.chars(HEX, 3)}-${r.chars(HEX, 12)}`,
  hex24: (r) => r.chars(HEX, 24),
  sha: (r) => r.chars(HEX, 40),
  user: (r) => {
    const k = r.int(0, 5);
    if (k === 0) return `${r.pick(FIRST)}${r.pick(LAST)}`;
    if (k === 1) return `${r.pick(FIRST)}-${r.pick(LAST)}`;
    if (k === 2) return `${r.pick(WORDS)}${r.int(1, 999)}`;
    if (k === 3) return `${r.pick(FIRST)}_${r.pick(WORDS)}`;
    return `${r.pick(WORDS)}${r.pick(TECH)}`;
  },
  org: (r) =>
    r.next() < 0.5
      ? `${r.pick(WORDS)}-${r.pick(TECH)}`
      : `${r.pick(WORDS)}${r.pick(['hq', 'labs', 'io', 'inc', 'dev', ''])}`,
  repo: (r) => {
    const k = r.int(0, 4);
    if (k === 0) return r.pick(TECH);
    if (k === 1) return `${r.pick(TECH)}-${r.pick(TECH)}`;
    if (k === 2) return `${r.pick(WORDS)}.js`;
    if (k === 3) return `${r.pick(WORDS)}-${r.pick(TECH)}`;
    return r.pick(WORDS);
  },
  slug,
  word: (r) => r.pick(WORDS),
  branch: (r) => {
    const u = r.next();
    if (u < 0.35) return r.pick(['main', 'master', 'develop', 'dev', 'next', 'staging']);
    return `${r.pick(BRANCH_PREFIX)}/${slug(r)}`;
  },
  filepath: (r) => {
    const depth = r.int(0, 3);
    const dirs: string[] = [];
    for (let i = 0; i < depth; i++) dirs.push(r.pick(DIRS));
    return [...dirs, fileName(r)].join('/');
  },
  key: (r) => {
    const depth = r.int(0, 4);
    const parts: string[] = [];
    for (let i = 0; i < depth; i++)
      parts.push(
        r.pick([r.pick(DIRS), `${r.int(2019, 2025)}`, `${r.int(1, 12)}`.padStart(2, '0'), r.pick(WORDS)]),
      );
    parts.push(
      r.next() < 0.5 ? fileName(r) : `${r.chars(HEX, 12)}.${r.pick(['jpg', 'parquet', 'gz', 'json'])}`,
    );
    return parts.join('/');
  },
  bucket: (r) =>
    `${r.pick(WORDS)}-${r.pick(['logs', 'assets', 'backups', 'data', 'media', 'exports'])}${r.next() < 0.3 ? `-${r.int(1, 99)}` : ''}`,
  stripe: (r) => r.chars(ALNUM, r.int(14, 24)),
  short: (r) => r.chars(ALNUM, r.int(6, 10)),
  invite: (r) => r.chars(ALNUM, r.int(6, 8)),
  letters: (r) => r.chars('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', r.int(8, 12)),
  channel: (r) => `${r.pick(['C', 'G', 'D'])}${r.chars(UPPER_DIGITS, r.int(8, 10))}`,
  slackuser: (r) => `U${r.chars(UPPER_DIGITS, 10)}`,
  ts: (r) => `${r.int(1_600_000_000, 1_750_000_000)}.${String(r.int(0, 999_999)).padStart(6, '0')}`,
  sid: (r) => r.chars(HEX, 32),
  country: (r) => r.pick(COUNTRIES),
  lang: (r) => r.pick(LANGS),
  namespace: (r) => r.pick(NAMESPACES),
  podname: (r) =>
    r.next() < 0.6
      ? `${r.pick(TECH)}-${r.chars(HEX.slice(0, 10) + LOWER.slice(0, 6), 10)}-${r.chars(`${LOWER}0123456789`, 5)}`
      : `${r.pick(TECH)}-${r.pick(TECH)}`,
  k8sname: (r) => (r.next() < 0.5 ? `${r.pick(TECH)}-${r.pick(WORDS)}` : r.pick(TECH)),
  domain: (r) => `${r.pick([...WORDS, ...TECH])}${r.next() < 0.3 ? `-${r.pick(TECH)}` : ''}.${r.pick(TLDS)}`,
  hostport: (r) =>
    `${r.pick(TECH)}-${r.int(1, 9)}.${r.pick(['internal', 'local', 'svc'])}:${r.pick([80, 443, 5432, 6379, 8080, 9090])}`,
  ipv6: (r) => `2001:db8:${r.chars(HEX, 4)}::${r.chars(HEX, r.int(1, 4))}`,
  ipv4: (r) => `${r.int(1, 223)}.${r.int(0, 255)}.${r.int(0, 255)}.${r.int(1, 254)}`,
  semver: (r) =>
    `${r.int(0, 12)}.${r.int(0, 30)}.${r.int(0, 20)}${r.next() < 0.15 ? `-beta.${r.int(1, 5)}` : ''}`,
  pkg: (r) =>
    r.next() < 0.3
      ? `${r.pick(TECH)}-${r.pick(TECH)}`
      : r.next() < 0.5
        ? r.pick(WORDS)
        : `${r.pick(WORDS)}-${r.pick(TECH)}`,
  date: (r) =>
    `20${r.int(20, 25)}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`,
  emoji: (r) => encodeURIComponent(`${r.pick(EMOJI)}${r.next() < 0.5 ? `-${r.pick(WORDS)}` : ''}`),
  tag: (r) => (r.next() < 0.4 ? encodeURIComponent(r.pick(EMOJI)) : r.pick([...WORDS, ...TECH])),
  region: (r) => r.pick(REGIONS),
  currency: (r) => r.pick(CURRENCIES),
  plan: (r) => r.pick(PLANS),
  sku: (r) =>
    `${r.pick(['sku', 'SKU', 'prd'])}-${r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ', 2)}${r.int(1000, 9999)}`,
  handle: (r) => slug(r),
  zone: (r) => r.chars(UPPER_DIGITS, 14),
  project: (r) => `${r.pick(WORDS)}-${r.pick(TECH)}-${r.int(100, 999_999)}`,
  gname: (r) => (r.next() < 0.5 ? `${r.pick(TECH)}-${r.pick(WORDS)}` : `${r.pick(WORDS)}${r.int(1, 99)}`),
  image: (r) => (r.next() < 0.5 ? r.pick(TECH) : `${r.pick(WORDS)}/${r.pick(TECH)}`),
  digest: (r) => `sha256:${r.chars(HEX, 64)}`,
  isbn: (r) => `978${r.chars('0123456789', 10)}`,
  code: (r) => r.chars('ABCDEFGHJKLMNPQRSTUVWXYZ23456789', 6),
};

export const VALUE_KINDS = Object.keys(MAKERS);

/** Pool size by kind: enums-like kinds have small pools, ids have pools larger than the corpus. */
const POOL_SIZE: Record<string, number> = {
  country: 40,
  lang: 15,
  namespace: 14,
  region: 8,
  currency: 12,
  plan: 5,
  org: 300,
  user: 1500,
  repo: 400,
  bucket: 60,
  image: 200,
  k8sname: 300,
  pkg: 500,
  word: 150,
};

/** Values of one API: each kind has its own pool, drawn with Zipf popularity. */
export class ValuePools {
  private readonly pools = new Map<string, { values: string[]; cum: Float64Array }>();
  constructor(private readonly rng: Rng) {}

  value(kind: string): string {
    let pool = this.pools.get(kind);
    if (pool === undefined) {
      const make = MAKERS[kind];
      if (make === undefined) throw new Error(`no value generator for kind ${kind}`);
      const size = POOL_SIZE[kind] ?? 20_000;
      const values: string[] = [];
      const seen = new Set<string>();
      for (let i = 0; i < size * 3 && values.length < size; i++) {
        const v = make(this.rng);
        if (!seen.has(v)) {
          seen.add(v);
          values.push(v);
        }
      }
      pool = { values, cum: zipfTable(values.length, 0.9) };
      this.pools.set(kind, pool);
    }
    return pool.values[zipfIndex(pool.cum, this.rng.next())] as string;
  }
}
