import type { DemoClient } from './demo-client.ts';
import { sku, uuid, VOCABULARY as V } from './demo-vocabulary.ts';
import { hex } from './hex.ts';
import type { Prng } from './prng.ts';
import type { ClientKind } from './user-agents.ts';

/**
 * The APIs behind the demo traffic: one large storefront and a few smaller projects, each with its
 * own endpoints, clients and logging habits (id format, timestamp format, which fields it logs).
 */
export type StatusProfile =
  | 'read'
  | 'list'
  | 'create'
  | 'update'
  | 'delete'
  | 'login'
  | 'search'
  | 'ingest'
  | 'scan'
  | 'webhook';

export interface Endpoint {
  readonly method: string;
  readonly weight: number;
  /** Path with its query string, if any (when the project logs `query` apart, see `query`). */
  readonly path: (rng: Prng, client: DemoClient) => string;
  /** Query text logged in its own field (legacy project only). */
  readonly query?: (rng: Prng, client: DemoClient) => string;
  readonly status: StatusProfile;
  readonly medianMs: number;
  readonly sigma?: number;
  /** Median response size in bytes. */
  readonly outBytes: number;
  /** Median request size in bytes when the body is not logged. */
  readonly inBytes?: number;
  /** The request body, when the app logs it. */
  readonly body?: (rng: Prng, client: DemoClient) => string;
}

export type AuthStyle = 'jwt' | 'api-key' | 'query-token' | 'none';

export interface Project {
  readonly id: string;
  /** Share of all traffic. */
  readonly weight: number;
  readonly host: string;
  readonly clients: number;
  readonly clientMix: readonly (readonly [ClientKind, number])[];
  readonly auth: AuthStyle;
  readonly endpoints: readonly Endpoint[];
  readonly requestId: 'uuid' | 'prefixed' | 'header-only';
  readonly timestamp: 'iso-ms' | 'iso-us' | 'epoch-ms';
  readonly integerLatency?: boolean;
  /** Logs `{"error":…}` response bodies of failed requests. */
  readonly errorBodies?: boolean;
  /** Behind an AWS load balancer: sends `x-amzn-trace-id`. */
  readonly behindAlb?: boolean;
  readonly protocol?: boolean;
  /** Added by the logging sidecar. */
  readonly sidecar?: { readonly service: string; readonly environment: string };
}

const page = (rng: Prng): number => (rng.chance(0.7) ? 1 : rng.range(2, 12));
const userId = (rng: Prng, c: DemoClient): number => (rng.chance(0.8) ? c.userId : rng.range(1, 2_000_000));
const piId = (rng: Prng): string => `pi_3${rng.alnum(23)}`;
const customer = (rng: Prng, c: DemoClient): string => `cus_${c.userId.toString(36).padStart(6, '0')}${rng.alnum(8)}`;
const device = (c: DemoClient): string => `dev-${hex.u32(c.userId)}`;

const storefront: readonly Endpoint[] = [
  { method: 'GET', weight: 14, status: 'list', medianMs: 45, outBytes: 12_000,
    path: (r) => `/v1/products?category=${r.pick(V.categories)}&sort=${r.pick(V.sorts)}&page=${page(r)}&limit=24` },
  { method: 'GET', weight: 18, status: 'read', medianMs: 22, outBytes: 3_500, path: (r) => `/v2/products/${sku(r)}` },
  { method: 'GET', weight: 4, status: 'list', medianMs: 60, outBytes: 8_000,
    path: (r) => `/v2/products/${sku(r)}/reviews?page=${page(r)}` },
  { method: 'GET', weight: 10, status: 'search', medianMs: 120, sigma: 0.8, outBytes: 15_000,
    path: (r) => `/v1/search?q=${r.pick(V.searchTerms)}&page=${page(r)}` },
  { method: 'GET', weight: 6, status: 'read', medianMs: 15, outBytes: 900, path: (r, c) => `/v1/users/${userId(r, c)}` },
  { method: 'GET', weight: 6, status: 'read', medianMs: 12, outBytes: 1_100, path: () => '/v1/users/me' },
  { method: 'PATCH', weight: 1, status: 'update', medianMs: 40, outBytes: 900, path: (_, c) => `/v1/users/${c.userId}`,
    body: (r) => `{"name":${JSON.stringify(r.pick(V.names))},"city":${JSON.stringify(r.pick(V.cities))}}` },
  { method: 'GET', weight: 7, status: 'read', medianMs: 20, outBytes: 2_000, path: (r) => `/v1/carts/${uuid(r)}` },
  { method: 'POST', weight: 5, status: 'create', medianMs: 35, outBytes: 2_200, path: (r) => `/v1/carts/${uuid(r)}/items`,
    body: (r) => `{"sku":"${sku(r)}","quantity":${r.range(1, 4)}}` },
  { method: 'DELETE', weight: 1.5, status: 'delete', medianMs: 25, outBytes: 0,
    path: (r) => `/v1/carts/${uuid(r)}/items/${sku(r)}` },
  { method: 'POST', weight: 2.5, status: 'create', medianMs: 220, sigma: 0.6, outBytes: 1_800, path: () => '/v1/orders',
    body: (r) =>
      `{"cart_id":"${uuid(r)}","shipping":{"name":${JSON.stringify(r.pick(V.names))},"city":${JSON.stringify(r.pick(V.cities))}},"payment_method":"pm_${r.alnum(14)}"}` },
  { method: 'GET', weight: 3, status: 'read', medianMs: 30, outBytes: 2_600, path: (r) => `/v1/orders/${uuid(r)}` },
  { method: 'GET', weight: 2, status: 'list', medianMs: 70, outBytes: 9_000,
    path: (r) => `/v1/orders?status=${r.pick(['shipped', 'pending', 'delivered'])}&limit=20` },
  { method: 'GET', weight: 0.5, status: 'read', medianMs: 140, outBytes: 60_000,
    path: (r, c) => `/v1/orders/${uuid(r)}/invoice.pdf?access_token=${c.secret}` },
  { method: 'POST', weight: 2, status: 'login', medianMs: 180, sigma: 0.3, outBytes: 700, path: () => '/v1/auth/login',
    body: (r, c) => `{"email":"user${c.userId}@example.com","password":"${r.pick(V.passwords)}"}` },
  { method: 'POST', weight: 2, status: 'create', medianMs: 25, outBytes: 700, path: () => '/v1/auth/refresh',
    body: (r) => `{"refresh_token":"rt_${r.alnum(40)}"}` },
  { method: 'GET', weight: 3, status: 'read', medianMs: 90, outBytes: 6_000,
    path: (r, c) => `/v1/recommendations?user_id=${c.userId}&limit=${r.pick([6, 12, 24])}` },
  { method: 'POST', weight: 3, status: 'read', medianMs: 60, outBytes: 4_000, path: () => '/graphql',
    body: (r) =>
      `{"operationName":"Product","query":"query Product($id: ID!) { product(id: $id) { id name price reviews(first: 5) { rating text } } }","variables":{"id":"${sku(r)}"}}` },
  { method: 'GET', weight: 1, status: 'read', medianMs: 35, outBytes: 3_000,
    path: (r) => `/v1/stores/nearby?lat=${(r.next() * 140 - 60).toFixed(4)}&lng=${(r.next() * 340 - 170).toFixed(4)}` },
  { method: 'GET', weight: 0.3, status: 'scan', medianMs: 2, outBytes: 150, path: (r) => r.pick(V.scannerPaths) },
];

const payments: readonly Endpoint[] = [
  { method: 'POST', weight: 25, status: 'create', medianMs: 320, sigma: 0.5, outBytes: 1_400, path: () => '/v1/payment_intents',
    body: (r, c) => `{"amount":${r.range(199, 49_999)},"currency":"${r.pick(V.currencies)}","customer":"${customer(r, c)}"}` },
  { method: 'GET', weight: 20, status: 'read', medianMs: 40, outBytes: 1_400, path: (r) => `/v1/payment_intents/${piId(r)}` },
  { method: 'POST', weight: 10, status: 'create', medianMs: 450, sigma: 0.7, outBytes: 1_500,
    path: (r) => `/v1/payment_intents/${piId(r)}/confirm` },
  { method: 'POST', weight: 3, status: 'create', medianMs: 250, outBytes: 600, path: () => '/v1/refunds',
    body: (r) => `{"payment_intent":"${piId(r)}","reason":"requested_by_customer"}` },
  { method: 'GET', weight: 12, status: 'read', medianMs: 30, outBytes: 1_000, path: (r, c) => `/v1/customers/${customer(r, c)}` },
  { method: 'GET', weight: 8, status: 'list', medianMs: 90, outBytes: 7_000,
    path: (r, c) => `/v1/charges?customer=${customer(r, c)}&limit=10` },
  { method: 'POST', weight: 8, status: 'webhook', medianMs: 15, outBytes: 20, inBytes: 2_500,
    path: (r) => `/v1/webhooks/incoming?token=whsec_${r.alnum(24)}` },
  { method: 'GET', weight: 4, status: 'read', medianMs: 25, outBytes: 300, path: () => '/v1/balance' },
];

const cms: readonly Endpoint[] = [
  { method: 'GET', weight: 20, status: 'list', medianMs: 35, outBytes: 20_000,
    path: (r) => `/v1/articles?tag=${r.pick(V.tags)}&page=${page(r)}` },
  { method: 'GET', weight: 40, status: 'read', medianMs: 20, outBytes: 25_000, path: (r) => `/v1/articles/${r.pick(V.articleSlugs)}` },
  { method: 'GET', weight: 5, status: 'read', medianMs: 15, outBytes: 1_500, path: (r) => `/v1/authors/${r.range(1, 400)}` },
  { method: 'GET', weight: 15, status: 'read', medianMs: 8, outBytes: 120_000,
    path: (r) => `/v1/media/${r.hex(32)}.jpg?w=${r.pick([320, 800, 1600])}` },
  { method: 'PUT', weight: 2, status: 'update', medianMs: 80, outBytes: 25_000, path: (r) => `/v1/articles/${r.pick(V.articleSlugs)}`,
    body: (r) => `{"title":"Caf\u00e9 culture in ${r.pick(V.cities)}","status":"draft"}` },
  { method: 'POST', weight: 3, status: 'create', medianMs: 45, outBytes: 400, path: () => '/v1/comments',
    body: (r) => `{"article":"${r.pick(V.articleSlugs)}","author":${JSON.stringify(r.pick(V.names))},"text":${JSON.stringify(r.pick(V.comments))}}` },
  { method: 'GET', weight: 2, status: 'read', medianMs: 300, outBytes: 400_000, path: () => '/v1/sitemap.xml' },
];

const iot: readonly Endpoint[] = [
  { method: 'POST', weight: 70, status: 'ingest', medianMs: 6, sigma: 0.4, outBytes: 20, inBytes: 320,
    path: (_, c) => `/v1/devices/${device(c)}/telemetry?token=${c.secret}` },
  { method: 'GET', weight: 15, status: 'read', medianMs: 10, outBytes: 800, path: (_, c) => `/v1/devices/${device(c)}/config` },
  { method: 'POST', weight: 15, status: 'ingest', medianMs: 4, outBytes: 20, inBytes: 150,
    path: (_, c) => `/v1/devices/${device(c)}/events?token=${c.secret}` },
];

const admin: readonly Endpoint[] = [
  { method: 'GET', weight: 30, status: 'list', medianMs: 150, outBytes: 30_000,
    path: (r) => `/v1/admin/users?page=${page(r)}&per_page=50&sort=-created_at` },
  { method: 'GET', weight: 20, status: 'read', medianMs: 40, outBytes: 2_500, path: (r) => `/v1/admin/users/${r.range(1, 2_000_000)}` },
  { method: 'PATCH', weight: 5, status: 'update', medianMs: 60, outBytes: 2_500, path: (r) => `/v1/admin/users/${r.range(1, 2_000_000)}`,
    body: (r) => `{"role":"${r.pick(['support', 'viewer', 'editor'])}"}` },
  { method: 'GET', weight: 10, status: 'read', medianMs: 1_500, sigma: 0.9, outBytes: 50_000,
    path: () => '/v1/admin/reports/revenue?from=2025-01-01&to=2025-01-31' },
  { method: 'POST', weight: 3, status: 'create', medianMs: 800, outBytes: 300, path: () => '/v1/admin/exports',
    body: () => '{"format":"csv","table":"orders"}' },
  { method: 'GET', weight: 10, status: 'list', medianMs: 200, outBytes: 15_000, path: (r) => `/v1/admin/audit-log?cursor=${r.alnum(16)}` },
  { method: 'DELETE', weight: 2, status: 'delete', medianMs: 30, outBytes: 0, path: (r) => `/v1/admin/sessions/${uuid(r)}` },
];

const legacy: readonly Endpoint[] = [
  { method: 'GET', weight: 40, status: 'read', medianMs: 80, outBytes: 3_000, path: () => '/api/getCustomer',
    query: (r, c) => `customerId=${r.range(1, 90_000)}&api_key=${c.secret}` },
  { method: 'POST', weight: 20, status: 'create', medianMs: 300, outBytes: 500, inBytes: 1_200, path: () => '/api/saveOrder',
    query: (_, c) => `api_key=${c.secret}` },
  { method: 'GET', weight: 30, status: 'list', medianMs: 400, sigma: 0.8, outBytes: 40_000, path: () => '/api/listInvoices',
    query: (r, c) => `customerId=${r.range(1, 90_000)}&year=${r.pick([2023, 2024, 2025])}&api_key=${c.secret}` },
];

const sandbox: readonly Endpoint[] = [
  { method: 'GET', weight: 50, status: 'list', medianMs: 55, outBytes: 12_000, path: (r) => `/v1/products?page=${page(r)}&limit=24` },
  { method: 'POST', weight: 30, status: 'create', medianMs: 40, outBytes: 1_500, path: () => '/v1/carts',
    body: (r) => `{"items":[{"sku":"${sku(r)}","quantity":1}]}` },
  { method: 'GET', weight: 20, status: 'search', medianMs: 130, sigma: 0.8, outBytes: 15_000,
    path: (r) => `/v1/search?q=${r.pick(V.searchTerms)}` },
];

export const PROJECTS: readonly Project[] = [
  { id: 'proj_storefront', weight: 58, host: 'api.shop.example.com', clients: 4_000, auth: 'jwt', endpoints: storefront,
    clientMix: [['desktop', 30], ['mobile-web', 24], ['tablet', 4], ['ios-app', 15], ['android-app', 13], ['cli', 2], ['crawler', 7]],
    requestId: 'uuid', timestamp: 'iso-ms', errorBodies: true, behindAlb: true, protocol: true,
    sidecar: { service: 'storefront-api', environment: 'production' } },
  { id: 'proj_payments', weight: 14, host: 'api.pay.example.com', clients: 300, auth: 'api-key', endpoints: payments,
    clientMix: [['server', 70], ['ios-app', 10], ['android-app', 10], ['cli', 10]],
    requestId: 'prefixed', timestamp: 'iso-us', errorBodies: true },
  { id: 'proj_cms', weight: 12, host: 'cms.example.org', clients: 3_000, auth: 'none', endpoints: cms,
    clientMix: [['desktop', 40], ['mobile-web', 35], ['tablet', 5], ['crawler', 20]], requestId: 'uuid', timestamp: 'iso-ms' },
  { id: 'proj_iot', weight: 8, host: 'ingest.devices.example.net', clients: 1_500, auth: 'query-token', endpoints: iot,
    clientMix: [['iot', 1]], requestId: 'uuid', timestamp: 'iso-ms' },
  { id: 'proj_admin', weight: 3, host: 'admin-api.example.com', clients: 40, auth: 'jwt', endpoints: admin,
    clientMix: [['desktop', 90], ['cli', 10]], requestId: 'uuid', timestamp: 'iso-ms', protocol: true },
  { id: 'proj_legacy', weight: 3, host: 'legacy.example.com', clients: 20, auth: 'query-token', endpoints: legacy,
    clientMix: [['server', 1]], requestId: 'header-only', timestamp: 'epoch-ms', integerLatency: true },
  { id: 'proj_sandbox', weight: 2, host: 'sandbox.api.example.com', clients: 30, auth: 'api-key', endpoints: sandbox,
    clientMix: [['load-test', 80], ['cli', 20]], requestId: 'uuid', timestamp: 'iso-ms' },
];
