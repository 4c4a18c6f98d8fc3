import type { DeadLetter, SourceRecord } from '../types.ts';
import type { EncodeOutcome, PreparedChunk, PrepareOptions, RecordStage } from './record-stage.ts';

/**
 * Where a shard processor's records are decoded, validated, enriched and encoded: in worker
 * threads (`ThreadStages`, one pool per process) or in the processor's own thread
 * (`InProcessStages`). A processor holds an id (`open`) and every call for it goes to the same
 * stage, which keeps its rows until they are encoded or freed.
 */
export interface RecordStages {
  /** Worker threads doing the work; 0 when it runs in the calling thread. */
  readonly threads: number;
  /** An id for a new processor. */
  open(): number;
  prepare(pid: number, records: readonly SourceRecord[], options: PrepareOptions): Promise<PreparedChunk>;
  /** One attempt at encoding `refs`; on success rows up to `through` are forgotten. */
  encode(pid: number, refs: readonly number[], through: number): Promise<EncodeOutcome>;
  refused(
    pid: number,
    refs: readonly number[],
    because: string,
  ): Promise<{ positions: number[]; deadLetters: DeadLetter[] }>;
  /** Forgets rows up to `through` without encoding them. */
  free(pid: number, through: number): void;
  /** Forgets every row of the processor, which makes no call after this one. */
  drop(pid: number): void;
  close(): Promise<void>;
}

/** The stages in the calling thread: the same `RecordStage` a worker thread runs, called directly. */
export class InProcessStages implements RecordStages {
  readonly threads = 0;
  private nextPid = 1;

  constructor(private readonly stage: RecordStage) {}

  open(): number {
    return this.nextPid++;
  }

  async prepare(
    pid: number,
    records: readonly SourceRecord[],
    options: PrepareOptions,
  ): Promise<PreparedChunk> {
    return this.stage.prepare(pid, records, options);
  }

  encode(pid: number, refs: readonly number[], through: number): Promise<EncodeOutcome> {
    return this.stage.encode(pid, refs, through);
  }

  refused(pid: number, refs: readonly number[], because: string) {
    return this.stage.refused(pid, refs, because);
  }

  free(pid: number, through: number): void {
    this.stage.free(pid, through);
  }

  drop(pid: number): void {
    this.stage.drop(pid);
  }

  close(): Promise<void> {
    return this.stage.close();
  }
}
