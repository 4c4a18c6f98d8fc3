import type { StatusProfile } from './demo-projects.ts';
import { WeightedPool } from './weighted-pool.ts';

/**
 * HTTP status mix per kind of endpoint, in percent. Together they give ~90% 2xx, a few percent
 * of 4xx (auth failures on login, 404s on reads, 422s on writes, 429s on search and ingest) and
 * about one percent of 5xx, as a healthy production API does.
 */
const TABLE: Record<StatusProfile, readonly (readonly [number, number])[]> = {
  read: [
    [200, 90],
    [304, 1.5],
    [401, 1.8],
    [403, 0.5],
    [404, 4.5],
    [429, 0.8],
    [500, 0.5],
    [502, 0.15],
    [503, 0.15],
    [504, 0.1],
  ],
  list: [
    [200, 94],
    [400, 0.8],
    [401, 1.8],
    [403, 0.3],
    [422, 0.5],
    [429, 1.2],
    [500, 0.7],
    [502, 0.2],
    [503, 0.3],
    [504, 0.2],
  ],
  create: [
    [201, 86],
    [200, 2],
    [400, 1.5],
    [401, 1.8],
    [403, 0.4],
    [409, 1],
    [422, 4.5],
    [429, 1.2],
    [500, 0.9],
    [502, 0.2],
    [503, 0.3],
    [504, 0.2],
  ],
  update: [
    [200, 88],
    [204, 3],
    [400, 1],
    [401, 1.8],
    [403, 0.7],
    [404, 1.5],
    [409, 0.8],
    [422, 2.5],
    [500, 0.5],
    [503, 0.2],
  ],
  delete: [
    [204, 89],
    [200, 2],
    [401, 2],
    [403, 1],
    [404, 5],
    [409, 0.5],
    [500, 0.5],
  ],
  login: [
    [200, 82],
    [400, 1],
    [401, 11],
    [422, 2.5],
    [429, 3],
    [500, 0.5],
  ],
  search: [
    [200, 93],
    [400, 1],
    [422, 0.5],
    [429, 3],
    [500, 1],
    [503, 0.5],
    [504, 1],
  ],
  ingest: [
    [202, 95],
    [400, 1],
    [401, 0.8],
    [413, 0.3],
    [429, 2.2],
    [500, 0.3],
    [503, 0.4],
  ],
  scan: [
    [404, 88],
    [403, 8],
    [401, 4],
  ],
  webhook: [
    [200, 97],
    [400, 1.5],
    [500, 1],
    [503, 0.5],
  ],
};

export const STATUS_PROFILES = Object.fromEntries(
  Object.entries(TABLE).map(([profile, rows]) => [profile, new WeightedPool(rows)]),
) as Record<StatusProfile, WeightedPool<number>>;
