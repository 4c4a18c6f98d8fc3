import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestLogger } from './request-logger.ts';

/** What Fastify passes to an `onRequest` hook, structurally (no dependency on fastify's types). */
export type FastifyOnRequestHook = (
  request: { raw: IncomingMessage },
  reply: { raw: ServerResponse },
  done: (error?: Error) => void,
) => void;

/**
 * Fastify: `app.addHook('onRequest', fastifyRequestLog(logger))` on the root instance (a hook
 * added inside a plugin only sees that plugin's routes).
 */
export function fastifyRequestLog(logger: RequestLogger): FastifyOnRequestHook {
  return (request, reply, done) => {
    logger.observe(request.raw, reply.raw);
    done();
  };
}
