import type { DemoClient } from '../demo-client.ts';
import type { Endpoint, Project } from '../demo-projects.ts';
import { VOCABULARY as V } from '../demo-vocabulary.ts';
import type { Prng } from '../prng.ts';

const piId = (rng: Prng): string => `pi_3${rng.alnum(23)}`;
const customer = (rng: Prng, c: DemoClient): string =>
  `cus_${c.userId.toString(36).padStart(6, '0')}${rng.alnum(8)}`;

const endpoints: readonly Endpoint[] = [
  {
    method: 'POST',
    weight: 25,
    status: 'create',
    medianMs: 320,
    sigma: 0.5,
    outBytes: 1_400,
    path: () => '/v1/payment_intents',
    body: (r, c) =>
      `{"amount":${r.range(199, 49_999)},"currency":"${r.pick(V.currencies)}","customer":"${customer(r, c)}"}`,
  },
  {
    method: 'GET',
    weight: 20,
    status: 'read',
    medianMs: 40,
    outBytes: 1_400,
    path: (r) => `/v1/payment_intents/${piId(r)}`,
  },
  {
    method: 'POST',
    weight: 10,
    status: 'create',
    medianMs: 450,
    sigma: 0.7,
    outBytes: 1_500,
    path: (r) => `/v1/payment_intents/${piId(r)}/confirm`,
  },
  {
    method: 'POST',
    weight: 3,
    status: 'create',
    medianMs: 250,
    outBytes: 600,
    path: () => '/v1/refunds',
    body: (r) => `{"payment_intent":"${piId(r)}","reason":"requested_by_customer"}`,
  },
  {
    method: 'GET',
    weight: 12,
    status: 'read',
    medianMs: 30,
    outBytes: 1_000,
    path: (r, c) => `/v1/customers/${customer(r, c)}`,
  },
  {
    method: 'GET',
    weight: 8,
    status: 'list',
    medianMs: 90,
    outBytes: 7_000,
    path: (r, c) => `/v1/charges?customer=${customer(r, c)}&limit=10`,
  },
  {
    method: 'POST',
    weight: 8,
    status: 'webhook',
    medianMs: 15,
    outBytes: 20,
    inBytes: 2_500,
    path: (r) => `/v1/webhooks/incoming?token=whsec_${r.alnum(24)}`,
  },
  { method: 'GET', weight: 4, status: 'read', medianMs: 25, outBytes: 300, path: () => '/v1/balance' },
];

/** Server-to-server payment API: API keys, slow confirmations, incoming webhooks, microsecond timestamps. */
export const PAYMENTS: Project = {
  id: 'proj_payments',
  weight: 14,
  host: 'api.pay.example.com',
  clients: 300,
  auth: 'api-key',
  endpoints,
  clientMix: [
    ['server', 70],
    ['ios-app', 10],
    ['android-app', 10],
    ['cli', 10],
  ],
  requestId: 'prefixed',
  timestamp: 'iso-us',
  errorBodies: true,
};
