import { describe, expect, it } from 'vitest';
import { requestKey } from '../../pipeline/dedupe/deduplicator.ts';
import { createEnricher } from '../../pipeline/enrich/enrich-log.ts';
import { GeoIp } from '../../pipeline/enrich/geo-ip.ts';
import { UserAgentClassifier } from '../../pipeline/enrich/user-agent.ts';
import { validateLog } from '../../pipeline/validate/validate-log.ts';
import type { RequestRow } from '../../schemas/request-row.ts';
import { ordinaryCorpus, secretCorpus } from './secret-corpus.ts';

/**
 * Every secret of the corpus goes through the functions the pipeline uses to turn a decoded log
 * into a stored row (validate, request key, enrich), and no stored column may hold it or any 8
 * characters of it. Ordinary traffic goes the same way, and a row of it is a false positive when
 * anything at all was redacted from it.
 *
 * The false-positive bound is 2%: every ordinary row carries hashes in ETags, commit ids, trace
 * ids, prefixed object ids, ULIDs, UUIDs, versions and browser user agents, so a detector that
 * flags any of those classes fails the bound at once (each class appears in far more than 2% of
 * rows), while a rare coincidence (a random id that happens to pass every token test) does not.
 */

const enrich = createEnricher({ geoIp: GeoIp.disabled(), userAgents: new UserAgentClassifier() });
const encoder = new TextEncoder();

const storedRow = (log: Record<string, unknown>): RequestRow => {
  const valid = validateLog(log);
  if (!valid.ok) throw new Error(`corpus log is not valid: ${valid.message}`);
  const { requestId } = requestKey(valid.log, encoder.encode(JSON.stringify(log)));
  return enrich(valid.log, {
    shardId: 'shardId-000000000000',
    sequenceNumber: '49650000000000000000000000000000000000000000000000000001',
    subSequence: 0,
    arrivedAt: new Date('2025-01-15T10:00:01Z'),
    requestId,
    tsMicros: valid.tsMicros ?? 0n,
  });
};

const storedText = (row: RequestRow): string[] =>
  Object.values(row).filter((v): v is string => typeof v === 'string');

/** The first column that holds `secret` or 8 characters of it, or undefined. */
const leakIn = (row: RequestRow, secret: string): string | undefined => {
  const columns = storedText(row);
  const window = Math.min(8, secret.length);
  for (let i = 0; i + window <= secret.length; i++) {
    const piece = secret.slice(i, i + window);
    const hit = columns.find((c) => c.includes(piece));
    if (hit !== undefined) return `${piece} in ${hit.slice(0, 200)}`;
  }
  return undefined;
};

describe('secret corpus', () => {
  it('stores no secret, and redacts little of ordinary traffic', () => {
    // Prepare
    const secrets = secretCorpus();
    const ordinary = ordinaryCorpus();

    // Act
    const leaks = secrets
      .map((c) => ({ name: c.name, leak: leakIn(storedRow(c.log), c.secret) }))
      .filter((l) => l.leak !== undefined);
    const falsePositives = ordinary
      .map((c) => ({ name: c.name, row: storedRow(c.log) }))
      .filter((r) => r.row.redacted !== null);

    // Assess
    const figures = {
      secretCases: secrets.length,
      leaks: leaks.length,
      ordinaryCases: ordinary.length,
      falsePositives: falsePositives.length,
      falsePositiveRate: falsePositives.length / ordinary.length,
    };
    console.log(JSON.stringify(figures));
    for (const l of leaks) console.log(`leak: ${l.name}: ${l.leak}`);
    for (const f of falsePositives.slice(0, 10)) console.log(`false positive: ${f.name}: ${f.row.redacted}`);
    expect(secrets.length).toBeGreaterThanOrEqual(200);
    expect(leaks).toEqual([]);
    expect(figures.falsePositiveRate).toBeLessThan(0.02);
  });

  it('keeps the endpoint of a name:id segment whole (no card cut out of a longer number)', () => {
    // Act
    const row = storedRow({
      project_id: 'p',
      method: 'GET',
      path: '/v1/tenants/acme:41111111111111114/users/42',
      status: 200,
      latency_ms: 1,
    });

    // Assess
    expect(row.path).toBe('/v1/tenants/acme:41111111111111114/users/42');
    expect(row.endpoint).not.toContain('REDACTED');
  });
});
