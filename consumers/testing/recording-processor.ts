import type {
  Checkpoint,
  ShardRecordProcessor,
  ShardRecordProcessorFactory,
  SourceRecord,
} from '../../pipeline/types.ts';

export type LandPolicy =
  /** Every batch lands before processRecords resolves. */
  | 'each-batch'
  /** Nothing lands until shutdownRequested or shardEnded. */
  | 'on-shutdown'
  /** Nothing ever lands (a pipeline that never gets to write). */
  | 'never';

/** One processor's life, as a test sees it. */
export interface ProcessorLog {
  readonly shardId: string;
  readonly records: SourceRecord[];
  readonly events: string[];
}

/**
 * A stand-in for the pipeline: keeps what it receives and returns checkpoints by `policy`,
 * i.e. only for what it pretends to have landed. `failOnce` makes the first processRecords throw, `failTimes` the first n.
 */
export class RecordingProcessorFactory implements ShardRecordProcessorFactory {
  readonly processors: ProcessorLog[] = [];

  constructor(
    private readonly policy: LandPolicy = 'each-batch',
    private readonly hooks: {
      failOnce?: boolean;
      failTimes?: number;
      /** Awaited by every processRecords call before it takes the records: a slow pipeline. */
      gate?: () => Promise<void>;
    } = {},
  ) {}

  /** Every record received, by any processor, in order of arrival. */
  get records(): SourceRecord[] {
    return this.processors.flatMap((p) => p.records);
  }

  create(shardId: string): ShardRecordProcessor {
    const log: ProcessorLog = { shardId, records: [], events: [] };
    this.processors.push(log);
    const policy = this.policy;
    const hooks = this.hooks;
    let unlanded: Checkpoint | undefined;
    const land = () => {
      const checkpoint = unlanded;
      unlanded = undefined;
      return checkpoint;
    };
    return {
      async processRecords(records) {
        log.events.push(`processRecords:${records.length}`);
        if (hooks.failOnce) {
          hooks.failOnce = false;
          throw new Error('processor failed (test)');
        }
        if (hooks.failTimes) {
          hooks.failTimes -= 1;
          throw new Error('processor failed (test)');
        }
        await hooks.gate?.();
        log.records.push(...records);
        const last = records[records.length - 1];
        if (last) unlanded = { sequenceNumber: last.sequenceNumber };
        return policy === 'each-batch' ? land() : undefined;
      },
      async tick() {
        return undefined;
      },
      async shardEnded() {
        log.events.push('shardEnded');
        return policy === 'never' ? undefined : land();
      },
      async shutdownRequested() {
        log.events.push('shutdownRequested');
        return policy === 'never' ? undefined : land();
      },
      leaseLost() {
        log.events.push('leaseLost');
        unlanded = undefined;
      },
    };
  }
}
