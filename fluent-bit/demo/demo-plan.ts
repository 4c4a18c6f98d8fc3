import type { RequestLog } from '../../schemas/request-log.ts';
import { toFluentBitLine } from './fluent-bit-line.ts';
import { MALFORMED_KINDS, type MalformedKind, malformedLine } from './malformed-line.ts';
import { Prng } from './prng.ts';
import { generateRequestLogs, type TrafficOptions } from './traffic-generator.ts';

/**
 * What the demo producer sends, decided up front and counted exactly, so that a test can check
 * `landed + deduplicated + deadLettered = sent` downstream.
 *
 * Traffic comes in Fluent Bit chunks (about a second of logs each). A few chunks "partially
 * fail": the lines accepted before the failure were already stored, and Fluent Bit then resends
 * the whole chunk, so those lines arrive twice (with new partition keys). Duplicates are only
 * ever copies of valid lines, and malformed lines are never resent, so every sent line is
 * exactly one of: first copy of a valid log, extra copy of a valid log, or malformed.
 */
export interface DemoTally {
  /** Log lines sent (Kinesis records when not aggregated). */
  sent: number;
  /** Lines that pass `RequestLogV1`, extra copies included. */
  valid: number;
  malformed: number;
  /** Extra copies of valid lines. */
  duplicates: number;
  /** Distinct valid request logs: `sent = uniqueValid + duplicates + malformed`. */
  uniqueValid: number;
  malformedByKind: Record<MalformedKind, number>;
  /** Request ids of the valid logs (the `x-request-id` header for apps that log no `request_id`). */
  requestIds?: Set<string>;
}

export interface DemoPlanOptions {
  readonly events: number;
  readonly seed: number;
  readonly malformedRatio: number;
  readonly duplicateRatio: number;
  readonly traffic: TrafficOptions;
  readonly collectRequestIds?: boolean;
}

/** Lines of one Fluent Bit chunk are sent together: at most ~1 s of a busy app's traffic. */
const CHUNK_LINES = { min: 50, max: 1_200 } as const;
/** Resends from partial failures come in bursts of at least this many lines (or at the end). */
const BURST_LINES = { min: 20, max: 250 } as const;
const RECENT_CHUNKS = 4;

const requestIdOf = (log: RequestLog): string =>
  log.request_id ?? String((log.headers as Record<string, unknown> | undefined)?.['x-request-id']);

const fbTimeOf = (log: RequestLog): number =>
  typeof log.timestamp === 'number' ? log.timestamp : Date.parse(log.timestamp ?? '');

export class DemoPlan {
  readonly tally: DemoTally;
  private readonly rng: Prng;

  constructor(private readonly options: DemoPlanOptions) {
    this.rng = new Prng().reseed(options.seed, 0x91a2);
    this.tally = {
      sent: 0,
      valid: 0,
      malformed: 0,
      duplicates: 0,
      uniqueValid: 0,
      malformedByKind: Object.fromEntries(MALFORMED_KINDS.map((k) => [k, 0])) as Record<
        MalformedKind,
        number
      >,
      requestIds: options.collectRequestIds ? new Set() : undefined,
    };
  }

  /**
   * Whether `tally` counts exactly the attempts yielded so far. It does not between the part of a
   * chunk resent after a partial failure and the chunk itself: the chunk is counted before both.
   * A sender may stop after an attempt only when this holds (its tally then says what it sent).
   */
  get settled(): boolean {
    return !this.chunkPending;
  }
  private chunkPending = false;

  /** The send attempts, in order: each is the Data lines of one Fluent Bit flush (or resend). */
  *attempts(): Generator<readonly Buffer[], void, undefined> {
    const { events, malformedRatio, duplicateRatio } = this.options;
    const rng = this.rng;
    const t = this.tally;
    const logs = generateRequestLogs(events, { ...this.options.traffic, seed: this.options.seed });
    let duplicateTarget = Math.round(events * duplicateRatio);
    const malformedTarget = Math.round(events * malformedRatio);
    const freshPlanned = Math.max(1, events - duplicateTarget);
    let freshDone = 0;
    const recent: Buffer[][] = [];

    while (t.sent < events) {
      const dupLeft = duplicateTarget - t.duplicates;
      const freshLeft = events - t.sent - dupLeft;
      if (freshLeft <= 0) {
        // Only resends are left to send: replay the most recent chunk that had valid lines.
        const source = recent.findLast((lines) => lines.length > 0);
        if (source === undefined) {
          duplicateTarget = t.duplicates;
          continue;
        }
        yield this.resend(source, Math.min(dupLeft, source.length));
        continue;
      }

      const size = Math.min(rng.range(CHUNK_LINES.min, CHUNK_LINES.max), freshLeft);
      const lines: Buffer[] = [];
      const valid: Buffer[] = [];
      for (let j = 0; j < size; j++) {
        const next = logs.next();
        if (next.done) throw new RangeError('demo plan ran out of generated logs');
        const log = next.value;
        // Sampling without replacement: exactly `malformedTarget` malformed lines overall.
        if (rng.next() * (freshLeft - j) < malformedTarget - t.malformed) {
          const bad = malformedLine(rng, log, fbTimeOf(log));
          lines.push(Buffer.from(bad.line));
          t.malformed++;
          t.malformedByKind[bad.kind]++;
        } else {
          const data = Buffer.from(toFluentBitLine(log, fbTimeOf(log)), 'latin1');
          lines.push(data);
          valid.push(data);
          t.valid++;
          t.uniqueValid++;
          t.requestIds?.add(requestIdOf(log));
        }
      }
      freshDone += size;
      t.sent += size;

      const due = Math.min(dupLeft, Math.round((duplicateTarget * freshDone) / freshPlanned) - t.duplicates);
      const last = freshLeft === size;
      if (due > 0 && (last || due >= rng.range(BURST_LINES.min, BURST_LINES.max))) {
        // The part of the chunk that was stored before the failure…
        const first = this.resend(valid, Math.min(due, valid.length));
        if (first.length > 0) {
          this.chunkPending = true;
          yield first;
          this.chunkPending = false;
        }
      }
      // …then the whole chunk again (or for the first time, when nothing failed).
      yield lines;
      recent.push(valid);
      if (recent.length > RECENT_CHUNKS) recent.shift();
    }
  }

  private resend(valid: readonly Buffer[], count: number): Buffer[] {
    const lines = valid.slice(0, count);
    this.tally.sent += lines.length;
    this.tally.valid += lines.length;
    this.tally.duplicates += lines.length;
    return lines;
  }
}
