import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestLogger } from './request-logger.ts';

/** What Express passes to a middleware, structurally (no dependency on express's types). */
export type ExpressMiddleware = (
  req: IncomingMessage & { originalUrl?: string },
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Express: `app.use(expressRequestLog(logger))`, before the routes. */
export function expressRequestLog(logger: RequestLogger): ExpressMiddleware {
  return (req, res, next) => {
    logger.observe(req, res);
    next();
  };
}
