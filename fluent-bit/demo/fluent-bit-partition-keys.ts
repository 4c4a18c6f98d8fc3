import { Prng } from './prng.ts';

/**
 * Partition keys as Fluent Bit's `kinesis_streams` makes them (it has no `partition_key`
 * option): a 10-character random prefix per output instance, then a small hash of the tag and
 * one of the current time, e.g. `L8veQyqOtm16761861`. Effectively random, so records of one
 * project spread over every shard.
 */
export class FluentBitPartitionKeys {
  private readonly rng: Prng;
  private readonly prefix: string;

  constructor(seed: number) {
    this.rng = new Prng().reseed(seed, 0x9a71);
    this.prefix = this.rng.alnum(10) + String(1000 + this.rng.int(9000));
  }

  next(): string {
    return this.prefix + String(this.rng.int(8000));
  }
}
