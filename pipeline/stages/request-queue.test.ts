import { describe, expect, it } from 'vitest';
import { RequestQueue } from './request-queue.ts';
import type { PackedRecords, StageRequest } from './stage-protocol.ts';

const packed = {} as PackedRecords;
const prepare = (id: number, pid: number): StageRequest => ({ id, op: 'prepare', pid, packed, options: {} });
const encode = (id: number, pid: number): StageRequest => ({
  id,
  op: 'encode',
  pid,
  refs: new Int32Array(0),
  through: 0,
});
const drainIds = (q: RequestQueue): (number | string)[] => {
  const out: (number | string)[] = [];
  for (let r = q.next(); r !== undefined; r = q.next()) out.push(r.id ?? r.op);
  return out;
};

describe('RequestQueue', () => {
  it("starts a batch's encode before other processors' chunks waiting to be prepared", () => {
    // Prepare: chunks of processors 1 and 2 wait; processor 3's batch is ready to encode.
    const q = new RequestQueue();
    for (const req of [prepare(1, 1), prepare(2, 2), encode(3, 3), prepare(4, 1)]) q.push(req);

    // Act
    const order = drainIds(q);

    // Assess
    expect(order).toEqual([3, 1, 2, 4]);
  });

  it("keeps a processor's own order: an encode never passes its processor's earlier requests", () => {
    const q = new RequestQueue();
    const requests: StageRequest[] = [
      prepare(1, 1),
      { op: 'free', pid: 2, through: 5 },
      encode(2, 2),
      encode(3, 1),
      { id: 4, op: 'refused', pid: 3, refs: new Int32Array(0), because: 'EncodeError' },
      { op: 'drop', pid: 3 },
    ];
    for (const req of requests) q.push(req);

    // Processor 3's search for refused rows goes first (nothing of its waits before it). Processor
    // 1's encode waits for its prepare, then passes processor 2's free; processor 2's encode waits
    // for that free; processor 3's drop stays after its search.
    expect(drainIds(q)).toEqual([4, 1, 3, 'free', 2, 'drop']);
    expect(q.length).toBe(0);
    expect(q.next()).toBeUndefined();
  });

  it('starts requests without a processor in arrival order, encodes apart', () => {
    const q = new RequestQueue();
    for (const req of [
      { id: 1, op: 'routes.take' } as const,
      prepare(2, 1),
      { op: 'routes.apply', updates: [] } as const,
      encode(3, 2),
      { id: 4, op: 'close' } as const,
    ])
      q.push(req);
    expect(drainIds(q)).toEqual([3, 1, 2, 'routes.apply', 4]);
  });
});
