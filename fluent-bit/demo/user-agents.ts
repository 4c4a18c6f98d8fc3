import type { NetworkKind } from './client-networks.ts';
import { WeightedPool } from './weighted-pool.ts';

/**
 * User-Agent strings as real clients send them, grouped by the kind of client. Weights within a
 * group follow rough market shares, so the demo's browser/OS breakdown looks like a real API's.
 */
export type ClientKind =
  | 'desktop'
  | 'mobile-web'
  | 'tablet'
  | 'ios-app'
  | 'android-app'
  | 'server'
  | 'cli'
  | 'load-test'
  | 'iot'
  | 'crawler';

export interface UserAgent {
  readonly ua: string;
  readonly kind: ClientKind;
  readonly network: NetworkKind;
  /** Sends `accept-language`, `referer`, cookies: a browser. */
  readonly browser: boolean;
}

type Row = readonly [ua: string, weight: number, network?: NetworkKind];

const CATALOGUE: Record<ClientKind, readonly Row[]> = {
  desktop: [
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      24,
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36',
      8,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      12,
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      3,
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      9,
    ],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 5],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0', 2],
    ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0', 1.5],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15',
      8,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15',
      3,
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0',
      1,
    ],
  ],
  'mobile-web': [
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1',
      18,
      'mobile',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
      8,
      'residential',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1',
      3,
      'mobile',
    ],
    [
      'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      22,
      'mobile',
    ],
    [
      'Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36',
      5,
      'mobile',
    ],
    ['Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0', 1, 'residential'],
  ],
  tablet: [
    [
      'Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1',
      6,
      'residential',
    ],
    [
      'Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
      2,
      'residential',
    ],
  ],
  'ios-app': [
    ['ShopApp/5.12.0 (com.example.shop; build:5120; iOS 18.1.0) Alamofire/5.9.1', 10, 'mobile'],
    ['ShopApp/5.11.2 (com.example.shop; build:5112; iOS 17.6.1) Alamofire/5.9.1', 4, 'mobile'],
    ['ShopApp/5120 CFNetwork/1568.200.51 Darwin/24.1.0', 3, 'residential'],
  ],
  'android-app': [
    ['okhttp/4.12.0', 8, 'mobile'],
    ['ShopApp/5.12.0 (Android 14; Pixel 8 Build/AP2A.240905.003) okhttp/4.12.0', 5, 'mobile'],
    ['Dalvik/2.1.0 (Linux; U; Android 13; SM-A546B Build/TP1A.220624.014)', 3, 'mobile'],
  ],
  server: [
    ['python-requests/2.32.3', 8],
    ['python-httpx/0.27.2', 3],
    ['axios/1.7.7', 5],
    ['node', 3],
    ['Go-http-client/2.0', 4],
    ['Go-http-client/1.1', 2],
    ['Java/17.0.12', 2],
    ['Apache-HttpClient/4.5.14 (Java/17.0.12)', 2],
    ['Ruby', 1],
    ['Stripe/1.0 (+https://stripe.com/docs/webhooks)', 1.5],
  ],
  cli: [
    ['curl/8.5.0', 6, 'residential'],
    ['curl/7.81.0', 3, 'cloud'],
    ['PostmanRuntime/7.42.0', 4, 'residential'],
    ['insomnia/10.1.1', 1, 'residential'],
    ['HTTPie/3.2.4', 1, 'residential'],
  ],
  'load-test': [
    ['k6/0.54.0 (https://k6.io/)', 5],
    ['Apache-HttpClient/4.5.14 (Java/11.0.25) JMeter/5.6.3', 1],
  ],
  iot: [
    ['ESP32HTTPClient', 5, 'residential'],
    ['Go-http-client/1.1', 3, 'residential'],
    ['sensor-agent/2.4.1 (linux; armv7l)', 2, 'mobile'],
  ],
  crawler: [
    ['Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 5, 'googlebot'],
    [
      'Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      4,
      'googlebot',
    ],
    ['Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 3, 'bingbot'],
  ],
};

const DEFAULT_NETWORK: Record<ClientKind, NetworkKind> = {
  desktop: 'residential',
  'mobile-web': 'mobile',
  tablet: 'residential',
  'ios-app': 'mobile',
  'android-app': 'mobile',
  server: 'cloud',
  cli: 'residential',
  'load-test': 'cloud',
  iot: 'residential',
  crawler: 'googlebot',
};

const BROWSER_KINDS: ReadonlySet<ClientKind> = new Set(['desktop', 'mobile-web', 'tablet']);

/** One pool of user agents per kind of client. */
export const USER_AGENTS = Object.fromEntries(
  (Object.entries(CATALOGUE) as [ClientKind, readonly Row[]][]).map(([kind, rows]) => [
    kind,
    new WeightedPool<UserAgent>(
      rows.map(([ua, weight, network]) => [
        { ua, kind, network: network ?? DEFAULT_NETWORK[kind], browser: BROWSER_KINDS.has(kind) },
        weight,
      ]),
    ),
  ]),
) as Record<ClientKind, WeightedPool<UserAgent>>;
