import type { PipelineConfig } from '../config.ts';
import type { GeoIpFiles } from '../enrich/geo-ip.ts';
import type { RouteUpdate } from '../enrich/routes/route-store.ts';
import type { DeadLetter, SourceRecord } from '../types.ts';
import type { PrepareOptions, StageSettings } from './record-stage.ts';

/**
 * The messages between the shard processors' thread and a stage thread. Records cross packed into
 * one transferred buffer (no copy of each record's bytes, no clone of a view's whole backing
 * buffer); rows never cross, only their request identities and the Parquet bytes.
 */

/** What a stage thread is started with. Plain data: it is cloned into the thread. */
export interface StageThreadInit {
  readonly settings: StageSettings;
  readonly enrich: Pick<PipelineConfig, 'enrich' | 'redaction'>;
  /** The geo-IP database, read once by the process and shared by its threads (none: geo-IP is off). */
  readonly geoIp?: GeoIpFiles;
  /** Name of the thread's learned routes in the lake (`learned-<name>.json`). */
  readonly routesWorker: string;
  /** The stored routes, or null when they could not be read (the thread's book then waits for a load). */
  readonly routeUpdates: readonly RouteUpdate[] | null;
  /** The updates leave out its own learning (a restarted thread): it waits for a load to take it. */
  readonly routesAwaitLoad?: boolean;
  /**
   * Old-generation heap limit of the thread: its caches and code, plus room for every batch of the
   * worker (`batch.maxWorkerBytes`) to sit in this one thread. A thread that passes it stops, and
   * its shards re-read from their checkpoints (`StageThreadError`), instead of the process growing.
   */
  readonly heapLimitMb: number;
}

/** A chunk of one shard's records in one buffer: record `i`'s Data is `data[ends[i-1] … ends[i])`. */
export interface PackedRecords {
  readonly shardIds: string[];
  readonly sequenceNumbers: string[];
  readonly partitionKeys: string[];
  readonly arrivedMs: Float64Array;
  readonly ends: Int32Array;
  readonly data: ArrayBuffer;
}

export const packRecords = (records: readonly SourceRecord[]): PackedRecords => {
  const n = records.length;
  const ends = new Int32Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += records[i]!.data.byteLength;
    ends[i] = total;
  }
  const data = new Uint8Array(total);
  const arrivedMs = new Float64Array(n);
  const shardIds: string[] = new Array(n);
  const sequenceNumbers: string[] = new Array(n);
  const partitionKeys: string[] = new Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    data.set(r.data, at);
    at += r.data.byteLength;
    arrivedMs[i] = r.arrivedAt.getTime();
    shardIds[i] = r.shardId;
    sequenceNumbers[i] = r.sequenceNumber;
    partitionKeys[i] = r.partitionKey;
  }
  return { shardIds, sequenceNumbers, partitionKeys, arrivedMs, ends, data: data.buffer };
};

export const unpackRecords = (packed: PackedRecords): SourceRecord[] => {
  const out: SourceRecord[] = new Array(packed.ends.length);
  // A page is one shard's: its records (and the rows they keep) share one copy of the shard id,
  // not one each as posting the array gave them.
  const shardId = packed.shardIds[0];
  let start = 0;
  for (let i = 0; i < out.length; i++) {
    const end = packed.ends[i]!;
    const own = packed.shardIds[i]!;
    out[i] = {
      shardId: own === shardId ? shardId : own,
      sequenceNumber: packed.sequenceNumbers[i]!,
      partitionKey: packed.partitionKeys[i]!,
      arrivedAt: new Date(packed.arrivedMs[i]!),
      data: new Uint8Array(packed.data, start, end - start),
    };
    start = end;
  }
  return out;
};

/** A view's own bytes: posting a view would clone its whole backing buffer (a whole chunk, a whole inflated record). */
export const ownBytes = (bytes: Uint8Array): Uint8Array =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();

export const ownDeadLetter = (dl: DeadLetter): DeadLetter => ({ ...dl, data: ownBytes(dl.data) });

export type StageRequest =
  | {
      readonly id: number;
      readonly op: 'prepare';
      readonly pid: number;
      readonly packed: PackedRecords;
      readonly options: PrepareOptions;
    }
  | {
      readonly id: number;
      readonly op: 'encode';
      readonly pid: number;
      readonly refs: Int32Array;
      readonly through: number;
    }
  | {
      readonly id: number;
      readonly op: 'refused';
      readonly pid: number;
      readonly refs: Int32Array;
      readonly because: string;
    }
  | { readonly id: number; readonly op: 'routes.take' }
  | { readonly id: number; readonly op: 'close' }
  | { readonly id?: undefined; readonly op: 'free'; readonly pid: number; readonly through: number }
  | { readonly id?: undefined; readonly op: 'drop'; readonly pid: number }
  | { readonly id?: undefined; readonly op: 'routes.apply'; readonly updates: readonly RouteUpdate[] };

export type StageReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string }
  | {
      readonly id: 0;
      readonly ok: true;
      readonly value: 'ready';
      /** The thread's OS thread id (Linux), for CPU accounting (`observability/thread-cpu.ts`). */
      readonly tid?: number;
    };
