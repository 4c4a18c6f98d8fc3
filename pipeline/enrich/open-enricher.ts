import type { PipelineConfig } from '../config.ts';
import { createEnricher, type Enricher } from './enrich-log.ts';
import { GeoIp } from './geo-ip.ts';
import type { RouteBook } from './routes/route-book.ts';
import { UserAgentClassifier } from './user-agent.ts';

/**
 * The enricher the config describes (geo-IP database, body cap, header allowlist) over `routes`;
 * `geoIp`, when given, is used instead of opening the configured database.
 */
export async function openEnricher(
  config: Pick<PipelineConfig, 'enrich' | 'redaction'>,
  routes: RouteBook,
  geoIp?: GeoIp,
): Promise<Enricher> {
  geoIp ??=
    config.enrich.geoIp === false
      ? GeoIp.disabled()
      : await GeoIp.open(config.enrich.geoIp === true ? undefined : config.enrich.geoIp);
  return createEnricher({
    routes,
    geoIp,
    userAgents: new UserAgentClassifier(),
    bodyCapChars: config.enrich.bodyCapChars,
    headerAllowlist: config.redaction.headerAllowlist,
  });
}
