import type { Endpoint, Project } from '../demo-projects.ts';
import { uuid } from '../demo-vocabulary.ts';
import { page } from './path-parts.ts';

const endpoints: readonly Endpoint[] = [
  {
    method: 'GET',
    weight: 30,
    status: 'list',
    medianMs: 150,
    outBytes: 30_000,
    path: (r) => `/v1/admin/users?page=${page(r)}&per_page=50&sort=-created_at`,
  },
  {
    method: 'GET',
    weight: 20,
    status: 'read',
    medianMs: 40,
    outBytes: 2_500,
    path: (r) => `/v1/admin/users/${r.range(1, 2_000_000)}`,
  },
  {
    method: 'PATCH',
    weight: 5,
    status: 'update',
    medianMs: 60,
    outBytes: 2_500,
    path: (r) => `/v1/admin/users/${r.range(1, 2_000_000)}`,
    body: (r) => `{"role":"${r.pick(['support', 'viewer', 'editor'])}"}`,
  },
  {
    method: 'GET',
    weight: 10,
    status: 'read',
    medianMs: 1_500,
    sigma: 0.9,
    outBytes: 50_000,
    path: () => '/v1/admin/reports/revenue?from=2025-01-01&to=2025-01-31',
  },
  {
    method: 'POST',
    weight: 3,
    status: 'create',
    medianMs: 800,
    outBytes: 300,
    path: () => '/v1/admin/exports',
    body: () => '{"format":"csv","table":"orders"}',
  },
  {
    method: 'GET',
    weight: 10,
    status: 'list',
    medianMs: 200,
    outBytes: 15_000,
    path: (r) => `/v1/admin/audit-log?cursor=${r.alnum(16)}`,
  },
  {
    method: 'DELETE',
    weight: 2,
    status: 'delete',
    medianMs: 30,
    outBytes: 0,
    path: (r) => `/v1/admin/sessions/${uuid(r)}`,
  },
];

/** An internal back office: few users, slow reports. */
export const ADMIN: Project = {
  id: 'proj_admin',
  weight: 3,
  host: 'admin-api.example.com',
  clients: 40,
  auth: 'jwt',
  endpoints,
  clientMix: [
    ['desktop', 90],
    ['cli', 10],
  ],
  requestId: 'uuid',
  timestamp: 'iso-ms',
  protocol: true,
};
