import type { RequestLog } from '../../schemas/request-log.ts';
import { createDemoClient, type DemoClient } from './demo-client.ts';
import { type Endpoint, PROJECTS, type Project } from './demo-projects.ts';
import { uuid } from './demo-vocabulary.ts';
import { hex } from './hex.ts';
import { Prng } from './prng.ts';
import { STATUS_PROFILES } from './status-profiles.ts';
import { WeightedPool } from './weighted-pool.ts';

export { toFluentBitLine } from './fluent-bit-line.ts';

/**
 * Deterministic, realistic schema-v1 request logs: the lines a fleet of apps writes, before
 * Fluent Bit touches them. Log `i` of seed `s` is a pure function of `(s, i)`: the same seed
 * always gives the same traffic, and any log can be rebuilt without generating the ones before.
 */
export interface TrafficOptions {
  /** Default 1. */
  readonly seed?: number;
  /** Time of log 0: epoch ms, ISO text or Date. Default 2025-01-15T10:00:00.000Z. */
  readonly startTime?: number | string | Date;
  /** Average requests per second; sets the timestamp spacing. Default 200. */
  readonly ratePerSecond?: number;
}

const DEFAULT_START = Date.UTC(2025, 0, 15, 10);
const NO_BODY = new Set(['GET', 'DELETE', 'HEAD', 'OPTIONS']);
const ERROR_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  422: 'validation_failed',
  429: 'rate_limited',
  500: 'internal_error',
  502: 'bad_gateway',
  503: 'unavailable',
  504: 'gateway_timeout',
};

interface ProjectModel {
  readonly project: Project;
  readonly endpoints: WeightedPool<Endpoint>;
  readonly clients: readonly DemoClient[];
}

/** Everything that depends on the seed only: the client pools. Built once per seed. */
class TrafficModel {
  readonly projects: WeightedPool<ProjectModel>;
  private readonly idKey: number;
  /** `toISOString` is slow and consecutive logs share their second: format each second once. */
  private isoSecond = Number.NaN;
  private isoPrefix = '';

  constructor(readonly seed: number) {
    const rng = new Prng().reseed(seed, 0xc11e);
    this.idKey = Prng.mix(seed, 0x1d);
    this.projects = new WeightedPool(
      PROJECTS.map((project) => {
        const kinds = new WeightedPool(project.clientMix);
        const clients = Array.from({ length: project.clients }, () => createDemoClient(rng, project, kinds));
        const endpoints = new WeightedPool(project.endpoints.map((e) => [e, e.weight] as const));
        return [{ project, endpoints, clients }, project.weight] as const;
      }),
    );
  }

  log(rng: Prng, index: number, startMs: number, intervalMs: number): RequestLog {
    rng.reseed(this.seed, index);
    const { project: p, endpoints, clients } = this.projects.pick(rng);
    // Squaring skews the pick: a few clients send much of the traffic, as in real APIs.
    const client = clients[Math.floor(clients.length * rng.next() ** 2)] as DemoClient;
    const ep = endpoints.pick(rng);
    const tsMs = startMs + (index + rng.next() - 0.5) * intervalMs;
    const status = STATUS_PROFILES[ep.status].pick(rng);
    const id = this.requestId(rng, p, index);
    const path = ep.path(rng, client);
    const body = ep.body !== undefined && !NO_BODY.has(ep.method) ? ep.body(rng, client) : undefined;
    const ms = latency(rng, ep, status);

    const headers: Record<string, string> = { host: p.host };
    headers.accept = client.ua.browser ? 'application/json, text/plain, */*' : 'application/json';
    if (body !== undefined || ep.inBytes !== undefined) headers['content-type'] = 'application/json';
    if (client.acceptLanguage !== undefined) headers['accept-language'] = client.acceptLanguage;
    if (client.authorization !== undefined) headers.authorization = client.authorization;
    if (client.cookie !== undefined) headers.cookie = client.cookie;
    if (p.behindAlb) headers['x-amzn-trace-id'] = `Root=1-${hex.u32(tsMs / 1000)}-${rng.hex(24)}`;
    headers['x-forwarded-for'] = client.ip;
    headers['x-request-id'] = id;

    const log: RequestLog = { timestamp: this.timestamp(p, tsMs, rng) } as RequestLog;
    if (p.requestId !== 'header-only') log.request_id = id;
    log.project_id = p.id;
    log.method = ep.method;
    log.path = path;
    if (ep.query !== undefined) log.query = ep.query(rng, client);
    log.status = status;
    log.latency_ms = p.integerLatency ? Math.round(ms) : Math.round(ms * 1000) / 1000;
    log.ip = client.ip;
    log.user_agent = client.ua.ua;
    log.headers = headers;
    log.bytes_in =
      body !== undefined
        ? Buffer.byteLength(body)
        : ep.inBytes !== undefined
          ? Math.round(rng.logNormal(ep.inBytes, 0.4))
          : 0;
    const errorBody = status >= 400 && p.errorBodies ? errorJson(status, id) : undefined;
    log.bytes_out =
      status === 204 || status === 304
        ? 0
        : errorBody !== undefined
          ? errorBody.length
          : status >= 400
            ? 40 + rng.int(300)
            : Math.round(rng.logNormal(ep.outBytes, 0.5));
    if (p.protocol) log.protocol = rng.chance(0.7) ? 'HTTP/2.0' : 'HTTP/1.1';
    if (body !== undefined) log.request_body = body;
    if (errorBody !== undefined) log.response_body = errorBody;
    if (p.sidecar !== undefined) {
      log.service = p.sidecar.service;
      log.environment = p.sidecar.environment;
    }
    return log;
  }

  private timestamp(p: Project, tsMs: number, rng: Prng): string | number {
    const ms = Math.floor(tsMs);
    if (p.timestamp === 'epoch-ms') return ms;
    const second = Math.floor(ms / 1000);
    if (second !== this.isoSecond) {
      this.isoSecond = second;
      this.isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    const millis = `${this.isoPrefix}${DIGITS3[ms - second * 1000]}`;
    return p.timestamp === 'iso-ms' ? `${millis}Z` : `${millis}${DIGITS3[rng.int(1000)]}Z`;
  }

  /** Unique per index: its first 32 bits are a bijection of the index (for indexes below 2^32). */
  private requestId(rng: Prng, p: Project, index: number): string {
    const unique = hex.u32(Prng.mix(this.idKey, index));
    if (p.requestId === 'prefixed') return `req_${unique}${rng.hex(16)}`;
    return uuid(rng, unique);
  }
}

const latency = (rng: Prng, ep: Endpoint, status: number): number => {
  switch (status) {
    case 504:
      return 29_000 + rng.next() * 1_500;
    case 429:
      return 0.3 + rng.next() * 3;
    case 401:
    case 403:
    case 304:
      return 1 + rng.next() * 8;
    case 503:
      return 2 + rng.next() * 50;
  }
  const median = ep.medianMs * (status === 404 ? 0.5 : status >= 500 ? 2 : 1);
  const ms = rng.logNormal(median, ep.sigma ?? 0.55);
  const tail = rng.next();
  // 1% slow (lock waits, cold caches), 0.1% very slow (retries, GC pauses, slow downstreams).
  if (tail < 0.001) return 5_000 + rng.next() * 25_000;
  if (tail < 0.011) return ms * (5 + rng.next() * 15);
  return ms;
};

const DIGITS3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

const errorJson = (status: number, id: string): string =>
  `{"error":"${ERROR_CODES[status] ?? 'error'}","status":${status},"request_id":"${id}"}`;

const models = new Map<number, TrafficModel>();

const modelFor = (seed: number): TrafficModel => {
  let model = models.get(seed);
  if (model === undefined) {
    if (models.size >= 8) models.clear();
    model = new TrafficModel(seed);
    models.set(seed, model);
  }
  return model;
};

const resolve = (options: TrafficOptions) => {
  const seed = (options.seed ?? 1) >>> 0;
  const start = options.startTime ?? DEFAULT_START;
  const startMs = typeof start === 'number' ? start : new Date(start).getTime();
  const rate = options.ratePerSecond ?? 200;
  if (!Number.isFinite(startMs)) throw new RangeError(`startTime ${String(start)} is not a valid time`);
  if (!(rate > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${rate}`);
  return { model: modelFor(seed), startMs, intervalMs: 1000 / rate };
};

const shared = new Prng();

/** Request log number `index` (0-based) of the traffic of `options.seed`. */
export const createRequestLog = (index: number, options: TrafficOptions = {}): RequestLog => {
  const { model, startMs, intervalMs } = resolve(options);
  return model.log(shared, index, startMs, intervalMs);
};

/** Logs `firstIndex` … `firstIndex + n - 1` of the traffic of `options.seed`, lazily. */
export function* generateRequestLogs(
  n: number,
  options: TrafficOptions & { readonly firstIndex?: number } = {},
): Generator<RequestLog, void, undefined> {
  const { model, startMs, intervalMs } = resolve(options);
  const rng = new Prng();
  const first = options.firstIndex ?? 0;
  for (let i = first; i < first + n; i++) yield model.log(rng, i, startMs, intervalMs);
}
