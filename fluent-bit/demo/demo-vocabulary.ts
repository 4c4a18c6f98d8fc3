import { hex } from './hex.ts';
import type { Prng } from './prng.ts';

/**
 * Words, names and ids that the demo endpoints put into paths, queries and bodies. Several are
 * non-ASCII on purpose: Fluent Bit escapes them as `\uXXXX`, and the pipeline must round-trip them.
 */
export const VOCABULARY = {
  searchTerms: [
    'running+shoes',
    'iphone+15+case',
    'usb-c+cable',
    'air+fryer',
    'yoga+mat',
    'lego',
    'backpack',
    'wireless+earbuds',
    'caf%C3%A9+beans',
    'm%C3%BCsli',
    'chaussures+femme',
    'zapatillas+hombre',
    '%E6%97%A5%E6%9C%AC%E8%8C%B6',
    'standing+desk',
    'winter+jacket',
    'gift+card',
  ],
  categories: ['shoes', 'electronics', 'home', 'toys', 'books', 'beauty', 'sports', 'garden', 'grocery'],
  sorts: ['relevance', 'price', '-price', '-rating', 'newest'],
  names: [
    'Anna Smith',
    'José García',
    'Zoë Martin',
    'Björn Svensson',
    'Łukasz Nowak',
    'Amélie Dubois',
    'Priya Sharma',
    'Chen Wei',
    '山田太郎',
    'Søren Madsen',
    'Olivia Brown',
    'Mehmet Yılmaz',
    'João Silva',
    'Noah Müller',
  ],
  cities: [
    'São Paulo',
    'Zürich',
    'München',
    'London',
    'Kraków',
    'Paris',
    'Seattle',
    'Toronto',
    '東京',
    'Malmö',
  ],
  comments: [
    'Great product, fast delivery!',
    'Très bien 👍',
    'Arrived damaged, box was crushed.',
    'Funktioniert einwandfrei.',
    'ありがとうございました',
    'Would buy again ★★★★★',
    'Size runs small, order one up.',
  ],
  passwords: ['hunter2', 'Tr0ub4dor&3', 'correct-horse-battery', 'P@ssw0rd!', 'letmein2025', 'qwerty123'],
  articleSlugs: [
    'how-to-choose-running-shoes',
    'best-budget-headphones-2025',
    'cafe-culture-in-zurich',
    'ten-tips-for-remote-teams',
    'winter-camping-checklist',
    'understanding-http-caching',
    'a-beginners-guide-to-sourdough',
    'electric-bikes-compared',
  ],
  tags: ['travel', 'food', 'tech', 'outdoors', 'reviews', 'guides'],
  currencies: ['usd', 'eur', 'gbp', 'jpy', 'brl', 'inr'],
  locales: [
    'en-US,en;q=0.9',
    'de-DE,de;q=0.9,en;q=0.8',
    'fr-FR,fr;q=0.9',
    'es-ES,es;q=0.9',
    'ja-JP,ja;q=0.9',
    'pt-BR,pt;q=0.9',
  ],
  scannerPaths: [
    '/wp-login.php',
    '/.env',
    '/.git/config',
    '/admin/config.php',
    '/phpmyadmin/index.php',
    '/xmlrpc.php',
  ],
} as const;

const SKUS: readonly string[] = Array.from({ length: 1_500 }, (_, i) => {
  const a = String.fromCharCode(65 + (i % 26), 65 + ((i * 7) % 26));
  return `sku-${a}${(i * 7919) % 10_000}`.padEnd(10, '0');
});

/** A product SKU; a few products get most of the views. */
export const sku = (rng: Prng): string => SKUS[Math.floor(SKUS.length * rng.next() ** 2)] as string;

/** A random RFC 4122 version-4 UUID; `first` replaces its first 8 hex digits when given. */
export const uuid = (rng: Prng, first?: string): string => {
  const a = first ?? hex.u32(rng.u32());
  const b = rng.u32();
  const c = rng.u32();
  const d = rng.u32();
  return `${a}-${hex.u16(b >>> 16)}-4${hex.u16(b).slice(1)}-${hex.u16(((c >>> 16) & 0x3fff) | 0x8000)}-${hex.u16(c)}${hex.u32(d)}`;
};
