import type { DemoClient } from './demo-client.ts';
import type { Prng } from './prng.ts';
import { ADMIN } from './projects/admin.ts';
import { CMS } from './projects/cms.ts';
import { IOT } from './projects/iot.ts';
import { LEGACY } from './projects/legacy.ts';
import { PAYMENTS } from './projects/payments.ts';
import { SANDBOX } from './projects/sandbox.ts';
import { STOREFRONT } from './projects/storefront.ts';
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

export const PROJECTS: readonly Project[] = [STOREFRONT, PAYMENTS, CMS, IOT, ADMIN, LEGACY, SANDBOX];
