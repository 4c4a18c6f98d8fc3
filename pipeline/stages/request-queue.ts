import type { StageRequest } from './stage-protocol.ts';

/**
 * A stage thread's requests received and not yet started, in arrival order, and which to start
 * next: a batch's `encode` (or the search for its `refused` rows) before other processors' chunks
 * waiting to be prepared. Its rows are ready, and landing them is what makes them queryable; with
 * one thread serving four shards, an encode waited behind up to three prepares of a few hundred
 * ms each. A processor's own requests keep their order: an encode never passes an earlier request
 * of its processor, and every other request starts in arrival order.
 */
export class RequestQueue {
  private readonly waiting: StageRequest[] = [];

  get length(): number {
    return this.waiting.length;
  }

  push(req: StageRequest): void {
    this.waiting.push(req);
  }

  /** The request to start now, taken off the queue; undefined when it is empty. */
  next(): StageRequest | undefined {
    const waiting = this.waiting;
    for (let i = 0; i < waiting.length; i++) {
      const req = waiting[i] as StageRequest;
      if ((req.op === 'encode' || req.op === 'refused') && !this.hasEarlier(req.pid, i))
        return waiting.splice(i, 1)[0];
    }
    return waiting.shift();
  }

  /** Whether a request of processor `pid` waits before position `before`. */
  private hasEarlier(pid: number, before: number): boolean {
    for (let j = 0; j < before; j++) {
      const earlier = this.waiting[j] as StageRequest;
      if ('pid' in earlier && earlier.pid === pid) return true;
    }
    return false;
  }
}
