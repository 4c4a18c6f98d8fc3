import type { RequestListener } from 'node:http';
import type { RequestLogger } from './request-logger.ts';

/**
 * node:http: `http.createServer(withRequestLog(logger, handler))` logs every request `handler`
 * serves.
 */
export function withRequestLog(logger: RequestLogger, handler: RequestListener): RequestListener {
  return (req, res) => {
    logger.observe(req, res);
    return handler(req, res);
  };
}
