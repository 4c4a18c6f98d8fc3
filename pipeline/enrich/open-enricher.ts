import type { PipelineConfig } from '../config.ts';
import { createEnricher, type Enricher } from './enrich-log.ts';
import type { GeoIp } from './geo-ip.ts';
import type { RouteBook } from './routes/route-book.ts';
import { UserAgentClassifier } from './user-agent.ts';

/**
 * The enricher the config describes (body cap, header allowlist) over `routes` and `geoIp` (see
 * `GeoIp.forConfig`; the caller closes it when done with the enricher).
 */
export function openEnricher(
  config: Pick<PipelineConfig, 'enrich' | 'redaction'>,
  routes: RouteBook,
  geoIp: GeoIp,
): Enricher {
  return createEnricher({
    routes,
    geoIp,
    userAgents: new UserAgentClassifier(),
    bodyCapChars: config.enrich.bodyCapChars,
    headerAllowlist: config.redaction.headerAllowlist,
  });
}
