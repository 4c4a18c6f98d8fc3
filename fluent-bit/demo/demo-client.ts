import { randomClientIp } from './client-networks.ts';
import type { Project } from './demo-projects.ts';
import { VOCABULARY } from './demo-vocabulary.ts';
import type { Prng } from './prng.ts';
import { USER_AGENTS, type UserAgent } from './user-agents.ts';
import type { WeightedPool } from './weighted-pool.ts';

/**
 * One end user, device or script calling a demo API. Real traffic repeats the same few thousand
 * clients (same address, user agent and credentials), so the generator draws from a fixed pool
 * of them instead of inventing every field per request.
 */
export interface DemoClient {
  readonly ua: UserAgent;
  readonly ip: string;
  readonly userId: number;
  /** The `authorization` header, when the client sends one. A secret: the pipeline must redact it. */
  readonly authorization?: string;
  /** The `cookie` header of browsers; carries a session secret. */
  readonly cookie?: string;
  readonly acceptLanguage?: string;
  /** Token or API key that some endpoints put into the query string (`?token=`, `api_key=`). */
  readonly secret: string;
}

const JWT_HEADER = Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url');
const ISSUED_AT = 1_736_900_000;

const jwt = (rng: Prng, userId: number): string => {
  const iat = ISSUED_AT + rng.int(86_400);
  const claims = Buffer.from(`{"sub":"${userId}","iat":${iat},"exp":${iat + 3_600},"scope":"read write"}`);
  return `${JWT_HEADER}.${claims.toString('base64url')}.${rng.alnum(43)}`;
};

export const createDemoClient = (
  rng: Prng,
  project: Project,
  kinds: WeightedPool<UserAgent['kind']>,
): DemoClient => {
  const ua = USER_AGENTS[kinds.pick(rng)].pick(rng);
  const ip = randomClientIp(rng, ua.network);
  const userId = 1 + Math.floor(2_000_000 * rng.next() ** 1.5);
  const human = ua.kind !== 'crawler' && ua.kind !== 'server' && ua.kind !== 'load-test' && ua.kind !== 'iot';
  let secret = '';
  let authorization: string | undefined;
  switch (project.auth) {
    case 'jwt':
      secret = jwt(rng, userId);
      if (human && rng.chance(0.85)) authorization = `Bearer ${secret}`;
      break;
    case 'api-key':
      secret = `key_${project.id === 'proj_sandbox' ? 'test' : 'live'}_${rng.alnum(24)}`;
      authorization = human && ua.kind !== 'cli' ? `Bearer ${jwt(rng, userId)}` : `Bearer ${secret}`;
      break;
    case 'query-token':
      secret = rng.hex(32);
      break;
    case 'none':
      break;
  }
  const cookie = ua.browser
    ? `${project.auth === 'jwt' ? `session=${rng.alnum(32)}; ` : ''}_ga=GA1.1.${rng.range(1e8, 2e9)}.${rng.range(1.7e9, 1.74e9)}`
    : undefined;
  const acceptLanguage = ua.browser ? rng.pick(VOCABULARY.locales) : undefined;
  return { ua, ip, userId, authorization, cookie, acceptLanguage, secret };
};
