import { ShardlineError } from '../errors.ts';

/**
 * Why landing a batch failed, as a bounded set of metric labels. `permanent` kinds cannot heal by
 * themselves (a person must fix the bucket, the credentials or the directory); the others usually
 * do (network, throttling, a disk that is freed).
 */
export type LandingErrorKind =
  | 'no_such_bucket'
  | 'invalid_bucket'
  | 'access_denied'
  | 'credentials'
  | 'wrong_region'
  | 'disk_full'
  | 'not_writable'
  | 'throttled'
  | 'network'
  | 'encode'
  | 'other';

const PERMANENT_KINDS: ReadonlySet<LandingErrorKind> = new Set([
  'no_such_bucket',
  'invalid_bucket',
  'access_denied',
  'credentials',
  'wrong_region',
  'not_writable',
]);

const BY_NAME: Record<string, LandingErrorKind> = {
  NoSuchBucket: 'no_such_bucket',
  InvalidBucketName: 'invalid_bucket',
  AccessDenied: 'access_denied',
  AllAccessDisabled: 'access_denied',
  AccountProblem: 'access_denied',
  InvalidAccessKeyId: 'credentials',
  SignatureDoesNotMatch: 'credentials',
  ExpiredToken: 'credentials',
  CredentialsProviderError: 'credentials',
  AuthorizationHeaderMalformed: 'wrong_region',
  PermanentRedirect: 'wrong_region',
  SlowDown: 'throttled',
  ThrottlingException: 'throttled',
  RequestTimeout: 'network',
  ServiceUnavailable: 'throttled',
  InternalError: 'network',
  ENOSPC: 'disk_full',
  EDQUOT: 'disk_full',
  EACCES: 'not_writable',
  EPERM: 'not_writable',
  EROFS: 'not_writable',
  ECONNREFUSED: 'network',
  ECONNRESET: 'network',
  ETIMEDOUT: 'network',
  ENOTFOUND: 'network',
  EAI_AGAIN: 'network',
  EPIPE: 'network',
  TimeoutError: 'network',
  EncodeError: 'encode',
};

/** The kind of a landing failure, found on the error or any of its causes. */
export function landingErrorKind(error: unknown): LandingErrorKind {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const o = e as { name?: unknown; code?: unknown; Code?: unknown; cause?: unknown };
    for (const key of [o.code, o.Code, o.name]) {
      if (typeof key === 'string' && BY_NAME[key] !== undefined) return BY_NAME[key];
    }
    e = o.cause;
  }
  return 'other';
}

export const isPermanentLandingError = (kind: LandingErrorKind): boolean => PERMANENT_KINDS.has(kind);

export interface LandingFailure {
  readonly kind: LandingErrorKind;
  readonly permanent: boolean;
  /** The error's own message: object keys, codes and advice, never record content. */
  readonly message: string;
  readonly at: number;
}

/**
 * Whether this process can land, shared by its shard processors: since when landing has been
 * failing (cleared by the next success), the last failure, and failures counted by kind.
 */
export class LandingStatus {
  #failingSince: number | undefined;
  #lastFailure: LandingFailure | undefined;
  #lastSuccessAt: number | undefined;
  readonly errors = new Map<LandingErrorKind, number>();

  failed(error: unknown, now: number): LandingFailure {
    const kind = landingErrorKind(error);
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
    this.#failingSince ??= now;
    const message = error instanceof ShardlineError || error instanceof Error ? error.message : String(error);
    this.#lastFailure = { kind, permanent: isPermanentLandingError(kind), message, at: now };
    return this.#lastFailure;
  }

  succeeded(now: number): void {
    this.#failingSince = undefined;
    this.#lastSuccessAt = now;
  }

  /** Set while landing fails, from the first failure after the last success. */
  get failingSince(): number | undefined {
    return this.#failingSince;
  }

  get lastFailure(): LandingFailure | undefined {
    return this.#lastFailure;
  }

  get lastSuccessAt(): number | undefined {
    return this.#lastSuccessAt;
  }
}
