import { createHash } from 'node:crypto';
import { LIMITS, type RequestLog } from '../../schemas/request-log.ts';
import type { RequestRow } from '../../schemas/request-row.ts';
import { endpointTemplate } from './endpoint-template.ts';
import { flat } from './flat-string.ts';
import type { GeoInfo, GeoIp } from './geo-ip.ts';
import { HotCache } from './hot-cache.ts';
import { redactBody, redactHeaders, redactPath, redactQuery, redactText } from './redact.ts';
import { normaliseRoute } from './routes/declared-routes.ts';
import type { RouteBook } from './routes/route-book.ts';
import type { UserAgentClassifier } from './user-agent.ts';

/** What the caller already knows about a log: where it came from and its parsed timestamp. */
export interface EnrichContext {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequence: number;
  readonly arrivedAt: Date;
  readonly requestId: string;
  readonly tsMicros: bigint;
}

export interface EnricherDeps {
  readonly geoIp: GeoIp;
  readonly userAgents: UserAgentClassifier;
  /** Bodies are cut to this many characters after redaction; 0 stores no bodies. */
  readonly bodyCapChars?: number;
  /** When set, only these headers (any case) keep their values; the others are stored as `[REDACTED]`. */
  readonly headerAllowlist?: readonly string[];
  /** Learned and declared routes per project; without it, endpoints come from the per-segment rules. */
  readonly routes?: RouteBook;
}

export type Enricher = (log: RequestLog, ctx: EnrichContext) => RequestRow;

const GEO_SLOTS = 4_096;
/** Longer "addresses" are not addresses (GeoIp answers nothing for them): not worth a slot. */
const MAX_GEO_KEY = 64;

const REDACTED_SLOTS = 256;
const MAX_INTERNED_LIST = 256;
const INTERN_SLOTS = 4_096;
/** Longer values (paths, bodies, header sets) rarely repeat whole. */
const MAX_INTERNED = 256;

const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

const statusClass = (status: number): string =>
  STATUS_CLASSES[Math.floor(status / 100) - 1] ?? `${Math.floor(status / 100)}xx`;

type QueryValue = string | number | boolean | readonly string[];

const queryFromObject = (query: Record<string, QueryValue>): string => {
  let out = '';
  for (const key of Object.keys(query)) {
    const value = query[key];
    const name = encodeURIComponent(key);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) out += `${out === '' ? '' : '&'}${name}=${encodeURIComponent(String(v))}`;
  }
  return out;
};

/** The query string from the path and/or the log's own `query` field, without a leading `?`. */
const rawQuery = (fromPath: string, given: RequestLog['query']): string => {
  if (given === undefined) return fromPath;
  let extra = typeof given === 'string' ? given : queryFromObject(given as Record<string, QueryValue>);
  if (extra.charCodeAt(0) === 63) extra = extra.slice(1);
  if (fromPath === '' || extra === fromPath) return extra;
  return extra === '' ? fromPath : `${fromPath}&${extra}`;
};

const headerString = (headers: RequestLog['headers'], name: string): string | undefined => {
  const value = headers?.[name];
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value[0];
  return undefined;
};

/** The client address when the app logged none: the first hop of X-Forwarded-For, or X-Real-IP. */
const clientIpFromHeaders = (headers: RequestLog['headers']): string | null => {
  const forwarded = headerString(headers, 'x-forwarded-for');
  if (forwarded !== undefined) {
    const comma = forwarded.indexOf(',');
    const first = (comma === -1 ? forwarded : forwarded.slice(0, comma)).trim();
    if (first !== '') return first;
  }
  return headerString(headers, 'x-real-ip') ?? null;
};

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 24);

const appendNames = (list: string | null, names: readonly string[]): string | null => {
  if (names.length === 0) return list;
  return list === null ? names.join(',') : `${list},${names.join(',')}`;
};

/**
 * Builds the enricher: a pure, synchronous function from a validated log to the row that is
 * stored. Secrets are redacted from every field before they reach the row; the `redacted`
 * column lists where. The dependencies hold only caches, so one enricher serves all shards.
 */
export function createEnricher(deps: EnricherDeps): Enricher {
  const { geoIp, userAgents, routes } = deps;
  const bodyCap = deps.bodyCapChars ?? LIMITS.bodyCapChars;
  const allowlist =
    deps.headerAllowlist === undefined
      ? undefined
      : new Set(deps.headerAllowlist.map((h) => h.toLowerCase()));
  // Client IPs repeat (a few clients send most requests): their geo is kept here, in front of
  // GeoIp's own LRU, where a hit costs one string comparison instead of hashing the address.
  const geoCache = new HotCache<GeoInfo>(GEO_SLOTS);
  const geoOf = (ip: string | null): GeoInfo => {
    if (ip === null || ip === '' || ip.length > MAX_GEO_KEY) return geoIp.lookup(ip ?? undefined);
    let geo = geoCache.get(ip);
    if (geo === undefined) {
      geo = geoIp.lookup(ip);
      geoCache.set(ip, geo);
    }
    return geo;
  };
  const redactedLists = new HotCache<string>(REDACTED_SLOTS);
  // The short columns that repeat (project, method, host, service, user agent, endpoint…): every
  // row held for its batch refers to one copy of each, not its own. Measured in a stage thread's
  // heap: 7.7 of its 17 MB of strings were equal copies.
  const shared = new HotCache<string>(INTERN_SLOTS);
  const intern = <T extends string | null>(value: T): T => {
    if (value === null || value.length > MAX_INTERNED) return value;
    const known = shared.get(value);
    if (known !== undefined) return known as T;
    shared.set(value, value);
    return value;
  };
  // Records of one batch arrive together: their ingest time, as a bigint, is worked out once.
  let lastArrivedMs = Number.NaN;
  let lastIngestTs = 0n;

  return (log, ctx) => {
    const fullPath = log.path;
    let cut = fullPath.indexOf('?');
    const hash = fullPath.indexOf('#');
    if (hash !== -1 && (cut === -1 || hash < cut)) cut = hash;
    const pathOnly = cut === -1 ? fullPath : fullPath.slice(0, cut);
    const pathQuery =
      cut === -1 || fullPath.charCodeAt(cut) === 35
        ? ''
        : fullPath.slice(cut + 1, hash > cut ? hash : undefined);

    const path = redactPath(pathOnly === '' ? '/' : pathOnly);
    // The app's route becomes the endpoint column: scanned like the path it templates.
    const route = log.route === undefined || log.route === '' ? undefined : redactPath(log.route).path;
    const query = redactQuery(rawQuery(pathQuery, log.query));
    const headers = redactHeaders(log.headers, allowlist);
    const requestBody = redactBody(
      log.request_body,
      bodyCap,
      'request_body',
      headerString(log.headers, 'content-type'),
    );
    const responseBody = redactBody(log.response_body, bodyCap, 'response_body');

    let redacted = appendNames(null, path.redacted);
    redacted = appendNames(redacted, query.redacted);
    redacted = appendNames(redacted, headers.redacted);
    redacted = appendNames(redacted, requestBody.redacted);
    redacted = appendNames(redacted, responseBody.redacted);

    // The short columns come from the client too: they go through the same scanner.
    const found: string[] = [];
    const clientIp = log.ip ?? clientIpFromHeaders(log.headers);
    const geo = geoOf(clientIp);
    const userAgent = redactText(
      log.user_agent ?? headerString(log.headers, 'user-agent'),
      'user_agent',
      found,
    );
    // Classified once redacted, so that a secret cannot reach the browser or os column either.
    const ua = userAgents.classify(userAgent ?? undefined);
    let requestId = ctx.requestId;
    if (redactText(requestId, 'request_id', found, true) !== requestId)
      requestId = `redacted-${digest(requestId)}`;
    const row = {
      project_id: intern(redactText(log.project_id, 'project_id', found) as string),
      method: intern(redactText(log.method.toUpperCase(), 'method', found) as string),
      client_ip: redactText(clientIp, 'client_ip', found),
      protocol: intern(redactText(log.protocol, 'protocol', found)),
      service: intern(redactText(log.service, 'service', found)),
      environment: intern(redactText(log.environment, 'environment', found)),
    };
    redacted = appendNames(redacted, found);
    if (redacted !== null) {
      // A few lists repeat (`header:authorization`): each row gets the one string, not a copy.
      const known = redactedLists.get(redacted);
      if (known !== undefined) redacted = known;
      else if (redacted.length <= MAX_INTERNED_LIST) redactedLists.set(redacted, redacted);
    }
    const arrivedMs = ctx.arrivedAt.getTime();
    if (arrivedMs !== lastArrivedMs) {
      lastArrivedMs = arrivedMs;
      lastIngestTs = BigInt(arrivedMs) * 1000n;
    }

    // Keys in column order, so that every row has the same shape (one hidden class in V8).
    return {
      ts: ctx.tsMicros,
      project_id: row.project_id,
      // A request id that holds a secret is replaced by a digest of it, so that ids stay distinct
      // (the warehouse skips rows whose id it already holds) and the secret is not stored.
      request_id: requestId,
      method: row.method,
      host: intern(headers.host),
      path: flat(path.path),
      query: query.query === '' ? null : flat(query.query),
      // From the redacted path, so that nothing redaction removed comes back; the template turns
      // redaction marks into `{id}`, so `/cards/{id}` stays one endpoint. Precedence: the app's
      // `route`, a declared route, learned routes, the per-segment rules (routes/route-book.ts).
      endpoint: intern(
        routes !== undefined
          ? routes.endpoint(row.project_id, path.path, row.method, log.status, query.query, route)
          : route !== undefined
            ? normaliseRoute(route)
            : endpointTemplate(path.path),
      ),
      status: log.status,
      status_class: statusClass(log.status),
      is_error: log.status >= 400,
      latency_ms: log.latency_ms,
      bytes_in: log.bytes_in ?? null,
      bytes_out: log.bytes_out ?? null,
      client_ip: row.client_ip,
      country: geo.country,
      city: geo.city,
      user_agent: intern(userAgent),
      browser: ua.browser,
      browser_version: ua.browserVersion,
      os: ua.os,
      device_type: ua.deviceType,
      is_bot: ua.isBot,
      headers: flat(headers.json),
      request_body: requestBody.body,
      response_body: responseBody.body,
      redacted,
      protocol: row.protocol,
      service: row.service,
      environment: row.environment,
      ingest_ts: lastIngestTs,
      shard_id: ctx.shardId,
      sequence_number: ctx.sequenceNumber,
      sub_sequence: ctx.subSequence,
      // Live ingestion; a replay sets its own run id (every row keeps the same shape either way).
      generation: 0,
    };
  };
}
