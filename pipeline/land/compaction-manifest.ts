import { z } from 'zod';
import { LandError } from '../errors.ts';
import { LAKE } from './lake-layout.ts';
import type { ObjectStore } from './object-store.ts';

/**
 * The record that a compaction of one hour is complete: written after every compacted file is
 * stored and before any file it merges is deleted. Its presence is what makes the compacted
 * files authoritative; compacted files without one are leftovers of a run that stopped, and the
 * next run writes them again (same sources, same id, same keys).
 *
 * @example
 * {"version":1,"id":"3f2a…","hour":"requests/dt=2026-11-22/hr=10/","rows":41250,
 *  "sources":["requests/dt=2026-11-22/hr=10/20261122T100004512Z-shardId-…parquet"],
 *  "outputs":["requests/dt=2026-11-22/hr=10/compacted-3f2a…-0000.parquet"],"createdAt":"2026-11-22T12:00:03.101Z"}
 */
export const CompactionManifest = z
  .object({
    version: z.literal(1),
    id: z.string().regex(/^[0-9a-f]{16}$/),
    hour: z.string(),
    rows: z.number().int().nonnegative(),
    sources: z.array(z.string()),
    outputs: z.array(z.string()),
    createdAt: z.iso.datetime(),
  })
  .strict();
export type CompactionManifest = z.infer<typeof CompactionManifest>;

const COMPACTED =
  /^((?:[a-z_]+\/)+dt=\d{4}-\d{2}-\d{2}\/hr=\d{2}\/)compacted-([0-9a-f]{16})-(\d{4})\.parquet$/;

/** `requests/dt=…/hr=…/compacted-<id>-<part>.parquet`: one of the files a compaction wrote. */
export const compactedKey = (hour: string, id: string, part: number): string =>
  `${hour}compacted-${id}-${String(part).padStart(4, '0')}.parquet`;

export const manifestKeyOf = (hour: string, id: string): string =>
  `${LAKE.compactionManifests}${hour}${id}.json`;

/** The compaction a key was written by, or undefined for any other key. */
export const compactionOf = (
  key: string,
): { hour: string; id: string; part: number; manifestKey: string } | undefined => {
  const m = COMPACTED.exec(key);
  if (m === null) return undefined;
  return { hour: m[1]!, id: m[2]!, part: Number(m[3]), manifestKey: manifestKeyOf(m[1]!, m[2]!) };
};

/** The manifest, or undefined when there is none (the compaction did not complete). */
export const readCompactionManifest = async (
  store: ObjectStore,
  key: string,
): Promise<CompactionManifest | undefined> => {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(key);
  } catch (error) {
    if (error instanceof LandError && !error.retriable) return undefined;
    throw error;
  }
  return CompactionManifest.parse(JSON.parse(Buffer.from(bytes).toString('utf8')));
};
