import { describe, expect, it } from 'vitest';
import { devStageThreads } from './dev-command.ts';

describe('devStageThreads', () => {
  it('leaves a core to the local Kinesis thread: one fewer stage thread than "auto"', () => {
    expect(devStageThreads(2)).toBe(1);
    expect(devStageThreads(4)).toBe(3);
    // "auto" stops at 8 threads, so the dev stack stops at 7.
    expect(devStageThreads(16)).toBe(7);
  });

  it('keeps every stage on the event loop on a single core, as "auto" does', () => {
    expect(devStageThreads(1)).toBe(0);
  });
});
