import { hostname } from 'node:os';
import type { RequestRow } from '../../schemas/request-row.ts';
import type { PipelineConfig } from '../config.ts';
import { deadLetterOf } from '../dead-letter/dead-letter-of.ts';
import { decodeRecord } from '../decode/decode-record.ts';
import { dedupeKey, requestKey } from '../dedupe/deduplicator.ts';
import type { Enricher } from '../enrich/enrich-log.ts';
import { GeoIp } from '../enrich/geo-ip.ts';
import { openEnricher } from '../enrich/open-enricher.ts';
import { RouteBook } from '../enrich/routes/route-book.ts';
import { loadRouteBook } from '../enrich/routes/route-store.ts';
import type { ObjectStore } from '../land/object-store.ts';
import type { DeadLetter } from '../types.ts';
import { implausibleTime } from '../validate/plausible-time.ts';
import { validateLog } from '../validate/validate-log.ts';

/** What today's pipeline makes of one dead letter's bytes. */
export interface Rederived {
  readonly rows: RequestRow[];
  /** Still bad, with today's reason (line by line when a whole record now partly decodes). */
  readonly deadLetters: DeadLetter[];
  /** Logs whose request this run already re-derived (the same request dead-lettered twice). */
  duplicates: number;
}

/**
 * Today's decode → validate → enrich for dead letters, the stages of `ShardProcessor.ingest`
 * without batching and landing: a re-drive lands what passes itself, under keys derived from the
 * dead-letter file. Deduplicates within one run; the warehouse's key does the rest.
 */
export class Rederiver {
  private readonly seen = new Set<string>();

  private constructor(
    private readonly config: PipelineConfig,
    private readonly enrich: Enricher,
    private readonly geoIp: GeoIp,
  ) {}

  static async create(config: PipelineConfig, lake: ObjectStore): Promise<Rederiver> {
    const routes = new RouteBook({ worker: `redrive-${hostname()}` });
    await loadRouteBook(routes, lake).catch(() => undefined);
    const geoIp = await GeoIp.forConfig(config.enrich.geoIp);
    try {
      return new Rederiver(config, openEnricher(config, routes, geoIp), geoIp);
    } catch (error) {
      geoIp.close();
      throw error;
    }
  }

  /** Closes the geo-IP files it opened. */
  close(): void {
    this.geoIp.close();
  }

  rederive(letter: DeadLetter): Rederived {
    const record = {
      shardId: letter.shardId,
      sequenceNumber: letter.sequenceNumber,
      partitionKey: letter.partitionKey,
      arrivedAt: letter.arrivedAt,
      data: letter.data,
    };
    // A letter of one line keeps that line's place in its record; a whole record numbers its own.
    const place = (sub: number | undefined) => (letter.subSequence === undefined ? sub : letter.subSequence);
    const decoded = decodeRecord(record, this.config.decode);
    const out: Rederived = {
      rows: [],
      deadLetters: decoded.deadLetters.map((dl) => ({ ...dl, subSequence: place(dl.subSequence) })),
      duplicates: 0,
    };
    const arrivedMs = letter.arrivedAt.getTime();
    for (const line of decoded.logs) {
      const sub = place(line.subSequence) ?? 0;
      const bad = (stage: DeadLetter['stage'], reason: DeadLetter['reason'], message: string) =>
        out.deadLetters.push(deadLetterOf(record, stage, reason, message, line.raw, sub));
      const valid = validateLog(line.value);
      if (!valid.ok) {
        bad('validate', 'schema_violation', valid.message);
        continue;
      }
      const tsMicros = valid.tsMicros ?? BigInt(arrivedMs) * 1000n;
      const implausible = implausibleTime(tsMicros, arrivedMs, this.config.validate.time);
      if (implausible !== undefined) {
        bad('validate', 'schema_violation', implausible);
        continue;
      }
      const { requestId } = requestKey(valid.log, line.bytes);
      const key = dedupeKey(valid.log.project_id, requestId, tsMicros);
      if (this.seen.has(key)) {
        out.duplicates += 1;
        continue;
      }
      this.seen.add(key);
      try {
        out.rows.push(
          this.enrich(valid.log, {
            shardId: letter.shardId,
            sequenceNumber: letter.sequenceNumber,
            subSequence: sub,
            arrivedAt: letter.arrivedAt,
            requestId,
            tsMicros,
          }),
        );
      } catch (e) {
        bad(
          'enrich',
          'enrich_failed',
          `enrichment failed (${e instanceof Error ? e.name : typeof e}); the log is kept for a replay once fixed`,
        );
      }
    }
    return out;
  }
}
