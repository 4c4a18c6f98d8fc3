import { describe, expect, it } from 'vitest';
import { LandError } from '../errors.ts';
import { MemoryStore } from './memory-store.ts';

describe('MemoryStore', () => {
  it('lists kept keys sorted, after startAfter, under a prefix', async () => {
    const store = new MemoryStore();
    for (const key of ['b/2', 'a/1', 'b/1', 'b/3']) await store.put(key, new Uint8Array([1]));
    expect(await store.list('b/', 'b/1')).toEqual(['b/2', 'b/3']);
    expect(await store.get('a/1')).toEqual(new Uint8Array([1]));
  });

  it('only counts when bodies are not kept, and says so when asked for one', async () => {
    const store = new MemoryStore({ keepBodies: false });
    await store.put('k', new Uint8Array(10));
    await store.put('k', new Uint8Array(5));
    expect([store.puts, store.bytes, await store.list('')]).toEqual([['k', 'k'], 15, []]);
    await expect(store.get('k')).rejects.toThrow(LandError);
  });
});
