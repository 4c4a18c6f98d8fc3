import type { DemoClient } from '../demo-client.ts';
import type { Endpoint, Project } from '../demo-projects.ts';
import { hex } from '../hex.ts';

const device = (c: DemoClient): string => `dev-${hex.u32(c.userId)}`;

const endpoints: readonly Endpoint[] = [
  {
    method: 'POST',
    weight: 70,
    status: 'ingest',
    medianMs: 6,
    sigma: 0.4,
    outBytes: 20,
    inBytes: 320,
    path: (_, c) => `/v1/devices/${device(c)}/telemetry?token=${c.secret}`,
  },
  {
    method: 'GET',
    weight: 15,
    status: 'read',
    medianMs: 10,
    outBytes: 800,
    path: (_, c) => `/v1/devices/${device(c)}/config`,
  },
  {
    method: 'POST',
    weight: 15,
    status: 'ingest',
    medianMs: 4,
    outBytes: 20,
    inBytes: 150,
    path: (_, c) => `/v1/devices/${device(c)}/events?token=${c.secret}`,
  },
];

/** Device telemetry ingest: tiny, fast POSTs from thousands of devices that put their token in the query string. */
export const IOT: Project = {
  id: 'proj_iot',
  weight: 8,
  host: 'ingest.devices.example.net',
  clients: 1_500,
  auth: 'query-token',
  endpoints,
  clientMix: [['iot', 1]],
  requestId: 'uuid',
  timestamp: 'iso-ms',
};
