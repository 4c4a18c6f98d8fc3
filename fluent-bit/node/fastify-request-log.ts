import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestLogger } from './request-logger.ts';

/** What Fastify passes to an `onRequest` hook, structurally (no dependency on fastify's types). */
export type FastifyOnRequestHook = (
  request: { raw: IncomingMessage; routeOptions?: { url?: string }; routerPath?: string },
  reply: { raw: ServerResponse },
  done: (error?: Error) => void,
) => void;

/**
 * Fastify: `app.addHook('onRequest', fastifyRequestLog(logger))` on the root instance (a hook
 * added inside a plugin only sees that plugin's routes).
 */
export function fastifyRequestLog(logger: RequestLogger): FastifyOnRequestHook {
  return (request, reply, done) => {
    // The matched route (`/users/:id`) is known at onRequest; the line is written later.
    const route = request.routeOptions?.url ?? request.routerPath;
    if (typeof route === 'string')
      (request.raw as IncomingMessage & { shardlineRoute?: string }).shardlineRoute = route;
    logger.observe(request.raw, reply.raw);
    done();
  };
}
