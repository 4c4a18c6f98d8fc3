import type { Prng } from './prng.ts';
import { WeightedPool } from './weighted-pool.ts';

/**
 * Where demo clients connect from: real, public address blocks of large ISPs, mobile carriers,
 * clouds and crawlers in many countries (checked against DB-IP Lite, so geo-IP enrichment gives
 * believable countries and cities). Never a private, loopback, CGNAT or documentation range.
 */
export type NetworkKind = 'residential' | 'mobile' | 'cloud' | 'googlebot' | 'bingbot';

type V4Block = readonly [cidr: string, weight: number];
/** IPv6: first hextet, range of the second hextet, weight. Hosts fill the other 96 bits. */
type V6Block = readonly [first: number, secondMin: number, secondMax: number, weight: number];

const V4: Record<NetworkKind, readonly V4Block[]> = {
  residential: [
    ['73.0.0.0/8', 16], // Comcast, US
    ['24.0.0.0/12', 5], // cable ISPs, US
    ['99.224.0.0/11', 3], // Rogers, CA
    ['79.192.0.0/10', 4], // Deutsche Telekom, DE
    ['84.128.0.0/10', 2], // Deutsche Telekom, DE
    ['91.0.0.0/10', 2], // Deutsche Telekom, DE
    ['86.192.0.0/11', 3], // Orange, FR
    ['88.160.0.0/11', 2], // Free, FR
    ['86.128.0.0/10', 4], // BT, GB
    ['81.128.0.0/11', 2], // BT, GB
    ['83.32.0.0/11', 2], // Telefonica, ES
    ['79.0.0.0/10', 2], // TIM, IT
    ['77.160.0.0/12', 1.5], // KPN, NL
    ['153.128.0.0/9', 2], // NTT OCN, JP
    ['126.0.0.0/8', 1.5], // SoftBank, JP
    ['175.192.0.0/10', 1.5], // KT, KR
    ['122.160.0.0/12', 2], // Airtel, IN
    ['179.96.0.0/13', 2.5], // BR
    ['187.128.0.0/10', 1.5], // Telmex, MX
    ['1.128.0.0/11', 1], // Telstra, AU
    ['41.0.0.0/11', 1], // ZA
  ],
  mobile: [
    ['172.56.0.0/14', 6], // T-Mobile, US
    ['174.192.0.0/10', 4], // Verizon Wireless, US
    ['107.77.192.0/18', 3], // AT&T Mobility, US
    ['49.36.0.0/14', 3], // Reliance Jio, IN
    ['157.32.0.0/12', 2], // Reliance Jio, IN
    ['106.192.0.0/11', 2], // Airtel, IN
    ['106.128.0.0/10', 2], // KDDI, JP
    ['101.160.0.0/11', 1], // Telstra, AU
    ['86.128.0.0/10', 2], // BT / EE, GB
    ['79.192.0.0/10', 2], // Deutsche Telekom, DE
  ],
  cloud: [
    ['3.80.0.0/12', 5], // AWS us-east-1
    ['54.144.0.0/14', 3], // AWS us-east-1
    ['52.14.0.0/16', 2], // AWS us-east-2
    ['54.72.0.0/15', 2], // AWS eu-west-1
    ['18.184.0.0/15', 2], // AWS eu-central-1
    ['35.180.0.0/16', 1], // AWS eu-west-3
    ['13.228.0.0/15', 1.5], // AWS ap-southeast-1
    ['88.198.0.0/16', 1.5], // Hetzner, DE
  ],
  googlebot: [['66.249.64.0/19', 1]],
  bingbot: [
    ['40.77.167.0/24', 2],
    ['157.55.39.0/24', 1],
    ['207.46.13.0/24', 1],
  ],
};

const V6: Partial<Record<NetworkKind, readonly V6Block[]>> = {
  residential: [
    [0x2601, 0x0000, 0x0fff, 6], // Comcast, US
    [0x2003, 0x0000, 0x1fff, 3], // Deutsche Telekom, DE
    [0x2a01, 0xcb00, 0xcbff, 2], // Orange, FR
    [0x2a02, 0x8100, 0x8103, 1], // Vodafone, DE
    [0x2a00, 0x23c5, 0x23c8, 1.5], // BT, GB
    [0x2804, 0x014c, 0x014c, 1], // BR
  ],
  mobile: [
    [0x2607, 0xfb90, 0xfb91, 4], // T-Mobile, US
    [0x2409, 0x4000, 0x43ff, 3], // Reliance Jio, IN
    [0x2405, 0x0201, 0x0201, 1], // Reliance Jio, IN
    [0x2001, 0x0268, 0x0268, 1], // SoftBank, JP
  ],
  cloud: [[0x2600, 0x1f18, 0x1f18, 1]], // AWS us-east-1
};

/** Share of clients of each kind that connect over IPv6. */
const V6_SHARE: Record<NetworkKind, number> = {
  residential: 0.18,
  mobile: 0.35,
  cloud: 0.03,
  googlebot: 0,
  bingbot: 0,
};

interface V4Range {
  readonly base: number;
  readonly size: number;
}

const parseCidr = (cidr: string): V4Range => {
  const [addr, bits] = cidr.split('/');
  const base = (addr ?? '').split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  return { base, size: 2 ** (32 - Number(bits)) };
};

const v4Pools = Object.fromEntries(
  Object.entries(V4).map(([kind, blocks]) => [
    kind,
    new WeightedPool(blocks.map(([c, w]) => [parseCidr(c), w])),
  ]),
) as Record<NetworkKind, WeightedPool<V4Range>>;

const v6Pools = Object.fromEntries(
  Object.entries(V6).map(([kind, blocks]) => [kind, new WeightedPool(blocks.map((b) => [b, b[3]]))]),
) as Partial<Record<NetworkKind, WeightedPool<V6Block>>>;

const v4 = (rng: Prng, range: V4Range): string => {
  // Skip network/broadcast-looking host numbers: real clients rarely end in .0 or .255.
  const n = range.base + rng.int(range.size);
  const last = n & 255;
  const d = last === 0 ? 1 : last === 255 ? 254 : last;
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${d}`;
};

const v6 = (rng: Prng, [first, min, max]: V6Block): string => {
  let out = `${first.toString(16)}:${rng.range(min, max).toString(16)}`;
  // A non-zero last hextet keeps the address free of `::` runs, so it is already canonical text.
  for (let i = 0; i < 5; i++) out += `:${rng.int(0x10000).toString(16)}`;
  return `${out}:${(1 + rng.int(0xffff)).toString(16)}`;
};

/** A public client address of the given kind of network. */
export const randomClientIp = (rng: Prng, kind: NetworkKind): string => {
  const pool6 = v6Pools[kind];
  if (pool6 !== undefined && rng.chance(V6_SHARE[kind])) return v6(rng, pool6.pick(rng));
  return v4(rng, v4Pools[kind].pick(rng));
};
