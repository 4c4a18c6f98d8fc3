import type { Endpoint, Project } from '../demo-projects.ts';
import { sku, VOCABULARY as V } from '../demo-vocabulary.ts';
import { page } from './path-parts.ts';

const endpoints: readonly Endpoint[] = [
  {
    method: 'GET',
    weight: 50,
    status: 'list',
    medianMs: 55,
    outBytes: 12_000,
    path: (r) => `/v1/products?page=${page(r)}&limit=24`,
  },
  {
    method: 'POST',
    weight: 30,
    status: 'create',
    medianMs: 40,
    outBytes: 1_500,
    path: () => '/v1/carts',
    body: (r) => `{"items":[{"sku":"${sku(r)}","quantity":1}]}`,
  },
  {
    method: 'GET',
    weight: 20,
    status: 'search',
    medianMs: 130,
    sigma: 0.8,
    outBytes: 15_000,
    path: (r) => `/v1/search?q=${r.pick(V.searchTerms)}`,
  },
];

/** Load tests against a staging copy of the storefront. */
export const SANDBOX: Project = {
  id: 'proj_sandbox',
  weight: 2,
  host: 'sandbox.api.example.com',
  clients: 30,
  auth: 'api-key',
  endpoints,
  clientMix: [
    ['load-test', 80],
    ['cli', 20],
  ],
  requestId: 'uuid',
  timestamp: 'iso-ms',
};
