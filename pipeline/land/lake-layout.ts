/**
 * The lake's top-level prefixes (pipeline/land/README.md draws the whole layout). Keys of the
 * batch tables come from `batchObjectKey`: `<table>/dt=YYYY-MM-DD/hr=HH/<batch>.<ext>`.
 */
export const LAKE = {
  /** Live rows, generation 0: Parquet, one file per batch (or compacted per hour). */
  requests: 'requests/',
  /** Logs that can never become a row, with their original bytes: JSON lines per batch. */
  deadLetters: 'dead_letters/',
  /** The records of every landed batch, as Kinesis delivered them: gzip JSON lines per batch. */
  raw: 'raw/',
  /** Replayed rows: `replays/requests/g=<generation>/dt=…/hr=…/<batch>.parquet`. */
  replays: 'replays/requests/',
  /** A replay's dead letters: `replays/dead_letters/g=<generation>/…`. */
  replayDeadLetters: 'replays/dead_letters/',
  /** One manifest per replay run: `_shardline/replays/g=<generation>.json`. */
  replayManifests: '_shardline/replays/',
  /** One manifest per compaction of an hour: `_shardline/compaction/requests/dt=…/hr=…/<id>.json`. */
  compactionManifests: '_shardline/compaction/',
} as const;

/** Where a replay of generation `g` lands what would have landed at `key`. */
export const replayKeyOf =
  (generation: number) =>
  (key: string): string => {
    const slash = key.indexOf('/');
    return `replays/${key.slice(0, slash)}/g=${generation}${key.slice(slash)}`;
  };
