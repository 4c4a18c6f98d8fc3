import type { Endpoint, Project } from '../demo-projects.ts';

const endpoints: readonly Endpoint[] = [
  {
    method: 'GET',
    weight: 40,
    status: 'read',
    medianMs: 80,
    outBytes: 3_000,
    path: () => '/api/getCustomer',
    query: (r, c) => `customerId=${r.range(1, 90_000)}&api_key=${c.secret}`,
  },
  {
    method: 'POST',
    weight: 20,
    status: 'create',
    medianMs: 300,
    outBytes: 500,
    inBytes: 1_200,
    path: () => '/api/saveOrder',
    query: (_, c) => `api_key=${c.secret}`,
  },
  {
    method: 'GET',
    weight: 30,
    status: 'list',
    medianMs: 400,
    sigma: 0.8,
    outBytes: 40_000,
    path: () => '/api/listInvoices',
    query: (r, c) =>
      `customerId=${r.range(1, 90_000)}&year=${r.pick([2023, 2024, 2025])}&api_key=${c.secret}`,
  },
];

/** An old Java service: logs `query` apart, epoch-millisecond timestamps, integer latencies, and its request id only in the `x-request-id` header. */
export const LEGACY: Project = {
  id: 'proj_legacy',
  weight: 3,
  host: 'legacy.example.com',
  clients: 20,
  auth: 'query-token',
  endpoints,
  clientMix: [['server', 1]],
  requestId: 'header-only',
  timestamp: 'epoch-ms',
  integerLatency: true,
};
