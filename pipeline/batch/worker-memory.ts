/**
 * What the batches of one worker's shard processors hold in memory, against the worker-wide bound
 * `batch.maxWorkerBytes`. A batch adds what it takes in and gives it back once landed (or dropped):
 * a processor awaits its batch's landing before it reads on, so each holds one batch, open or
 * landing. The processor whose record takes the sum past the bound cuts its own batch (`memory`)
 * and reads on only once it has landed, so together they never hold more than the bound plus one
 * record per processor (several may pass it at once while their batches wait for the encoder).
 */
export class WorkerMemory {
  /** Estimated bytes held by the batches (open or landing) of every processor. */
  private held = 0;
  /** The most the batches have held at once: what a test or a benchmark checks the bound by. */
  peak = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get over(): boolean {
    return this.held >= this.maxBytes;
  }

  add(bytes: number): void {
    this.held += bytes;
    if (this.held > this.peak) this.peak = this.held;
  }

  release(bytes: number): void {
    this.held = Math.max(0, this.held - bytes);
  }
}
