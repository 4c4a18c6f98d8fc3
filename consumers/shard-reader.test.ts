import { describe, expect, it } from 'vitest';
import { SHARD_END } from './checkpoint-store.ts';
import { type ConsumerClock, systemClock } from './consumer-clock.ts';
import { MemoryCheckpointStore } from './memory-checkpoint-store.ts';
import { ShardReader, type ShardReaderConfig } from './shard-reader.ts';
import { streamConsumerConfigSchema } from './stream-consumer-config.ts';
import { FakeClock } from './testing/fake-clock.ts';
import { FakeKinesis, kinesisError } from './testing/fake-kinesis.ts';
import { type LandPolicy, RecordingProcessorFactory } from './testing/recording-processor.ts';

const SHARD = 'shardId-000000000000';

interface SetupOptions {
  config?: Partial<ShardReaderConfig>;
  policy?: LandPolicy;
  failOnce?: boolean;
  failTimes?: number;
  gate?: () => Promise<void>;
  parentShardIds?: string[];
  store?: MemoryCheckpointStore;
}

/** A reader over a fake stream on virtual time. */
const setup = (options: SetupOptions = {}) => readerOn(new FakeClock(), options);

/** The same on the real clock: for what concurrent sleeps decide (virtual time adds them up). */
const setupRealClock = (options: SetupOptions = {}) => readerOn(systemClock, options);

const readerOn = <C extends ConsumerClock>(clock: C, options: SetupOptions) => {
  const kinesis = new FakeKinesis(() => clock.now());
  kinesis.addShard(SHARD);
  const store = options.store ?? new MemoryCheckpointStore();
  const processors = new RecordingProcessorFactory(options.policy ?? 'each-batch', {
    failOnce: options.failOnce,
    failTimes: options.failTimes,
    gate: options.gate,
  });
  const reader = new ShardReader({
    api: kinesis,
    streamName: 'test-stream',
    shardId: SHARD,
    parentShardIds: options.parentShardIds,
    checkpointStore: store,
    processorFactory: processors,
    config: { ...streamConsumerConfigSchema.parse({}), ...options.config },
    clock,
    random: () => 0.5,
  });
  return { clock, kinesis, store, processors, reader };
};

/** Lets the reader loop run until `condition` holds (virtual time makes this quick). */
const until = async (condition: () => boolean, turns = 10_000) => {
  for (let i = 0; i < turns && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  if (!condition()) throw new Error('condition not reached');
};

/** On the real clock: lets time pass until `condition` holds, for at most `ms` (a turn count would
 * depend on how fast the machine runs the loop). */
const untilWithin = async (condition: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`condition not reached within ${ms} ms`);
};

const intervals = (times: number[]) => times.slice(1).map((t, i) => t - (times[i] as number));

/**
 * A reader whose pipeline holds its first answer (2 records) while the call read ahead waits for
 * `call`. `stopWhileReadingAhead` stops the reader then lets the pipeline finish, and says whether
 * the stop has finished.
 */
const readingAhead = (call: Promise<void>) => {
  let releaseProcessor = () => {};
  const processing = new Promise<void>((resolve) => (releaseProcessor = resolve));
  const setupDone = setup({ config: { maxRecordsPerCall: 2 }, gate: () => processing });
  const { kinesis, reader } = setupDone;
  kinesis.holdGetRecords = (index) => (index === 1 ? call : Promise.resolve());
  kinesis.put(SHARD, 2);
  void reader.start();
  const stopWhileReadingAhead = async () => {
    await until(() => kinesis.getRecordsCalls.length === 2);
    let stopped = false;
    const done = reader.stop().then(() => {
      stopped = true;
    });
    releaseProcessor();
    for (let i = 0; i < 200; i++) await new Promise((resolve) => setImmediate(resolve));
    return { done, stopped: () => stopped };
  };
  return { ...setupDone, stopWhileReadingAhead };
};

describe('ShardReader', () => {
  it('backs off exponentially with full jitter, capped, while throttled, then reads on', async () => {
    // Prepare
    const { kinesis, processors, reader } = setup({ config: { backoffBaseMs: 1_000, backoffMaxMs: 4_000 } });
    const sent = kinesis.put(SHARD, 5);
    for (let i = 0; i < 4; i++)
      kinesis.getRecordsFailures.push(kinesisError('ProvisionedThroughputExceededException'));

    // Act
    void reader.start();
    await until(() => processors.records.length === 5);
    await reader.stop();

    // Assess: random() = 0.5 picks the middle of each window: 1 s, 2 s, 4 s, then the 4 s cap.
    expect(intervals(kinesis.getRecordsCalls.slice(0, 5))).toEqual([500, 1_000, 2_000, 2_000]);
    expect(processors.records.map((r) => r.sequenceNumber)).toEqual(sent);
    expect(reader.stats()).toMatchObject({ throttled: 4, errors: 0, state: 'SHUTDOWN_COMPLETE' });
  });

  it('resets the back-off after a successful call', async () => {
    // Prepare
    const { kinesis, processors, reader } = setup({
      config: { backoffBaseMs: 1_000, backoffMaxMs: 60_000, idleTimeBetweenReadsMs: 300 },
    });
    kinesis.put(SHARD, 1);
    kinesis.getRecordsFailures.push(
      kinesisError('LimitExceededException'),
      kinesisError('LimitExceededException'),
    );

    // Act: two throttles, a success, then another throttle.
    void reader.start();
    await until(() => processors.records.length === 1);
    kinesis.getRecordsFailures.push(kinesisError('InternalFailure', 500));
    kinesis.put(SHARD, 1);
    await until(() => processors.records.length === 2);
    await reader.stop();

    // Assess: the failure after the success waits the first window (500) again, not the third (2,000).
    const gaps = intervals(kinesis.getRecordsCalls);
    expect(gaps.slice(0, 2)).toEqual([500, 1_000]);
    expect(Math.max(...gaps.slice(2))).toBe(500);
  });

  it('never calls GetRecords more than once per minPollIntervalMs, and idles when caught up', async () => {
    // Prepare
    const { kinesis, processors, reader } = setup({
      config: { maxRecordsPerCall: 10, idleTimeBetweenReadsMs: 700 },
    });
    kinesis.put(SHARD, 25);

    // Act
    void reader.start();
    await until(() => processors.records.length === 25 && kinesis.getRecordsCalls.length >= 6);
    await reader.stop();

    // Assess: three full calls 200 ms apart, then one that finds nothing, then idle pauses.
    const gaps = intervals(kinesis.getRecordsCalls);
    expect(gaps.slice(0, 3)).toEqual([200, 200, 200]);
    expect(gaps.slice(3)).toEqual(gaps.slice(3).map(() => 700));
  });

  it('stores a checkpoint only when the processor returns one', async () => {
    // Prepare
    const { kinesis, store, processors, reader } = setup({ policy: 'on-shutdown' });
    const sent = kinesis.put(SHARD, 30);

    // Act
    void reader.start();
    await until(() => processors.records.length === 30);
    const beforeStop = [...store.history];
    await reader.stop();

    // Assess
    expect(beforeStop).toEqual([]);
    expect(await store.get(SHARD)).toEqual({ sequenceNumber: sent.at(-1) });
    expect(processors.processors[0]?.events.at(-1)).toBe('shutdownRequested');
    expect(reader.stats().lastCheckpoint).toEqual({ sequenceNumber: sent.at(-1) });
  });

  it('never moves a checkpoint backwards', async () => {
    // Prepare
    const store = new MemoryCheckpointStore();
    const { kinesis, reader, processors } = setup({ store });
    const sent = kinesis.put(SHARD, 3);
    await store.put(SHARD, { sequenceNumber: sent[2] as string });
    store.history.length = 0;
    kinesis.getRecordsFailures.push(kinesisError('ExpiredIteratorException'));

    // Act: the reader resumes after the checkpoint; nothing older can be stored.
    void reader.start();
    await until(() => kinesis.getRecordsCalls.length >= 3);
    await reader.stop();

    // Assess
    expect(processors.records).toEqual([]);
    expect(store.history).toEqual([]);
    expect(kinesis.iteratorRequests[0]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: sent[2],
    });
  });

  it('resumes AT the sequence number of a checkpoint inside a KPL aggregate', async () => {
    // Prepare
    const store = new MemoryCheckpointStore();
    const { kinesis, reader, processors } = setup({ store });
    const sent = kinesis.put(SHARD, 3);
    await store.put(SHARD, { sequenceNumber: sent[1] as string, subSequenceNumber: 4 });

    // Act
    void reader.start();
    await until(() => processors.records.length === 2);
    await reader.stop();

    // Assess: the partly landed aggregate is delivered again, whole.
    expect(kinesis.iteratorRequests[0]).toMatchObject({
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      StartingSequenceNumber: sent[1],
    });
    expect(processors.records.map((r) => r.sequenceNumber)).toEqual(sent.slice(1));
  });

  it('gets a new iterator after the last record seen when the iterator expired', async () => {
    // Prepare
    const { kinesis, processors, reader } = setup({ policy: 'never', config: { maxRecordsPerCall: 4 } });
    const sent = kinesis.put(SHARD, 8);

    // Act
    void reader.start();
    await until(() => processors.records.length === 4);
    kinesis.getRecordsFailures.push(kinesisError('ExpiredIteratorException'));
    await until(() => processors.records.length === 8);
    await reader.stop();

    // Assess: no record delivered twice, and the second iterator starts after the fourth record.
    expect(processors.records.map((r) => r.sequenceNumber)).toEqual(sent);
    expect(kinesis.iteratorRequests[1]).toMatchObject({
      ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
      StartingSequenceNumber: sent[3],
    });
  });

  it('replaces a failed processor and reads again from the last checkpoint', async () => {
    // Prepare
    const { kinesis, processors, reader } = setup({ failOnce: true });
    const sent = kinesis.put(SHARD, 6);

    // Act
    void reader.start();
    await until(() => processors.processors.length === 2 && processors.records.length === 6);
    await reader.stop();

    // Assess
    expect(processors.processors[0]?.events).toEqual(['processRecords:6', 'leaseLost']);
    expect(processors.processors[1]?.records.map((r) => r.sequenceNumber)).toEqual(sent);
    expect(kinesis.iteratorRequests.map((r) => r.ShardIteratorType)).toEqual([
      'TRIM_HORIZON',
      'TRIM_HORIZON',
    ]);
    expect(reader.stats()).toMatchObject({ processorRestarts: 1, errors: 1 });
  });

  it('reads the next answer while the processor still works on the previous one, and keeps order', async () => {
    // Prepare: a pipeline that holds its first call until the test lets it go.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const { kinesis, processors, reader } = setup({
      config: { maxRecordsPerCall: 2 },
      gate: () => (++calls === 1 ? held : Promise.resolve()),
    });
    const sent = kinesis.put(SHARD, 6);

    // Act
    void reader.start();
    await until(() => kinesis.getRecordsCalls.length === 2);
    const takenWhileHeld = processors.records.length;
    release();
    await until(() => processors.records.length === 6);
    await reader.stop();

    // Assess: the second call went out before the first answer was taken; nothing twice, in order.
    expect(takenWhileHeld).toBe(0);
    expect(processors.records.map((r) => r.sequenceNumber)).toEqual(sent);
    expect(kinesis.getRecordsIterators.slice(0, 3)).toEqual([
      kinesis.getRecordsIterators[0],
      `${SHARD}@2`,
      `${SHARD}@4`,
    ]);
  });

  it('drops the answer read ahead when the processor fails, and reads again from the checkpoint', async () => {
    // Prepare: the first call of the first processor fails after the second answer was read ahead.
    const { kinesis, processors, reader } = setup({ failOnce: true, config: { maxRecordsPerCall: 3 } });
    const sent = kinesis.put(SHARD, 6);

    // Act
    void reader.start();
    await until(() => processors.processors.length === 2 && processors.records.length === 6);
    await reader.stop();

    // Assess: the new processor gets every record once, from the start, in order.
    expect(processors.processors[0]?.records).toEqual([]);
    expect(processors.processors[1]?.records.map((r) => r.sequenceNumber)).toEqual(sent);
    expect(kinesis.getRecordsIterators[1]).toBe(`${SHARD}@3`);
  });

  it('finishes stopping only once the call it read ahead has answered', async () => {
    // Prepare: the call read ahead (the second) hangs until the test lets it go.
    let releaseCall = () => {};
    const call = new Promise<void>((resolve) => (releaseCall = resolve));
    const { kinesis, processors, reader, stopWhileReadingAhead } = readingAhead(call);

    // Act: stop while the answer is processed, then let the processor finish.
    const stop = await stopWhileReadingAhead();
    const stoppedWhileCallHeld = stop.stopped();
    releaseCall();
    await stop.done;

    // Assess: no call of this reader outlives it (the next holder's first call keeps its spacing).
    expect(processors.records).toHaveLength(2);
    expect(stoppedWhileCallHeld).toBe(false);
    expect(kinesis.getRecordsCalls).toHaveLength(2);
    expect(reader.stats().state).toBe('SHUTDOWN_COMPLETE');
  });

  it('stops waiting for a call that never answers once abandoned', async () => {
    // Prepare: the call read ahead never answers.
    const { reader, stopWhileReadingAhead } = readingAhead(new Promise<void>(() => {}));
    const stop = await stopWhileReadingAhead();
    const stoppedBefore = stop.stopped();

    // Act
    reader.abandon();
    await stop.done;

    // Assess
    expect(stoppedBefore).toBe(false);
    expect(reader.stats().state).toBe('SHUTDOWN_COMPLETE');
  });

  it('keeps minPollIntervalMs between calls when a read ahead is dropped (real clock)', async () => {
    // Prepare: the first processor fails at once, so the read ahead it started is dropped and the
    // shard is read again from its start; its back-off (0.5 × 100 ms) is shorter than the spacing.
    const { kinesis, processors, reader } = setupRealClock({
      failOnce: true,
      config: { maxRecordsPerCall: 3, minPollIntervalMs: 200 },
    });
    const sent = kinesis.put(SHARD, 6);

    // Act
    void reader.start();
    await untilWithin(() => processors.records.length === 6, 10_000);
    await reader.stop();

    // Assess: every call ~200 ms after the one before, never two at once (which the dropped read
    // ahead and the re-read were: 0-1 ms apart). Date.now() and the timers' clock differ by a few ms.
    expect(Math.min(...intervals(kinesis.getRecordsCalls))).toBeGreaterThanOrEqual(180);
    expect(processors.processors[1]?.records.map((r) => r.sequenceNumber)).toEqual(sent);
  });

  it('counts the idle pause from the answer read ahead, not from when it was taken (real clock)', async () => {
    // Prepare: at the tip of the shard, a pipeline that takes 1.2 s for its first answer; the
    // empty answer read ahead meanwhile (~200 ms) is ~1 s old when it is taken.
    let calls = 0;
    const { kinesis, processors, reader } = setupRealClock({
      gate: () => (++calls === 1 ? new Promise((r) => setTimeout(r, 1_200)) : Promise.resolve()),
      config: { idleTimeBetweenReadsMs: 1_000, minPollIntervalMs: 200 },
    });
    kinesis.put(SHARD, 2);
    const started = Date.now();

    // Act: two more records arrive while the first two are processed, after the read ahead.
    void reader.start();
    await new Promise((r) => setTimeout(r, 350));
    kinesis.put(SHARD, 2);
    await untilWithin(() => processors.records.length === 4, 10_000);
    const tookMs = Date.now() - started;
    await reader.stop();

    // Assess: read as soon as the pipeline is done (~1.2 s: the idle second since the empty answer
    // has passed), not a second after the answer was taken (~2.2 s).
    expect(tookMs).toBeLessThan(1_800);
  });

  it('backs off longer each time the processor fails again, though reads succeed', async () => {
    // Prepare: a processor that cannot land (say, the bucket refuses writes) four times.
    const { kinesis, processors, reader } = setup({
      failTimes: 4,
      // No poll spacing: the virtual clock adds up concurrent sleeps (the read ahead's and the back-off).
      config: { backoffBaseMs: 1_000, backoffMaxMs: 60_000, minPollIntervalMs: 0 },
    });
    kinesis.put(SHARD, 3);

    // Act
    void reader.start();
    await until(() => processors.processors.length === 5 && processors.records.length === 3);
    await reader.stop();

    // Assess: random() = 0.5 picks the middle of each window: 1 s, 2 s, 4 s, 8 s between the
    // re-reads from the checkpoint (the calls read ahead with the failed answers' iterators are dropped).
    const first = kinesis.getRecordsIterators[0];
    const rereads = kinesis.getRecordsCalls.filter((_, i) => kinesis.getRecordsIterators[i] === first);
    expect(intervals(rereads.slice(0, 5))).toEqual([500, 1_000, 2_000, 4_000]);
    expect(reader.stats()).toMatchObject({ processorRestarts: 4 });
  });

  it('calls shardEnded and stores SHARD_END when a closed shard is fully read', async () => {
    // Prepare
    const { kinesis, store, processors, reader } = setup({ policy: 'on-shutdown' });
    const sent = kinesis.put(SHARD, 3);
    kinesis.close(SHARD);

    // Act: the reader finishes on its own.
    await reader.start();

    // Assess
    expect(processors.records.map((r) => r.sequenceNumber)).toEqual(sent);
    expect(processors.processors[0]?.events).toEqual(['processRecords:3', 'shardEnded']);
    expect(await store.get(SHARD)).toEqual(SHARD_END);
    expect(reader.stats().state).toBe('SHUTDOWN_COMPLETE');
  });

  it('waits for its parents to reach SHARD_END, then reads from TRIM_HORIZON', async () => {
    // Prepare
    const { kinesis, store, processors, reader } = setup({
      parentShardIds: ['shardId-parent'],
      config: { initialPosition: 'LATEST' },
    });
    kinesis.put(SHARD, 2);

    // Act
    void reader.start();
    await until(() => reader.state === 'WAITING_ON_PARENT_SHARDS');
    for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
    const waitedWithoutReading = kinesis.iteratorRequests.length === 0 && processors.processors.length === 0;
    await store.put('shardId-parent', SHARD_END);
    await until(() => processors.records.length === 2);
    await reader.stop();

    // Assess
    expect(waitedWithoutReading).toBe(true);
    expect(kinesis.iteratorRequests[0]?.ShardIteratorType).toBe('TRIM_HORIZON');
  });

  it('keeps reading when a checkpoint write fails, and stores it later', async () => {
    // Prepare
    const store = new MemoryCheckpointStore();
    let failures = 2;
    const flaky = {
      get: (shardId: string) => store.get(shardId),
      put: async (shardId: string, checkpoint: Parameters<MemoryCheckpointStore['put']>[1]) => {
        if (failures-- > 0) throw new Error('disk full (test)');
        return store.put(shardId, checkpoint);
      },
    };
    const { kinesis, processors, reader } = setup({ store: flaky as unknown as MemoryCheckpointStore });
    const sent = kinesis.put(SHARD, 4);

    // Act
    void reader.start();
    await until(() => processors.records.length === 4 && store.history.length > 0);
    await reader.stop();

    // Assess
    expect(await store.get(SHARD)).toEqual({ sequenceNumber: sent[3] });
    expect(reader.stats().errors).toBe(2);
  });

  it('drops buffered work without a checkpoint when the lease is lost', async () => {
    // Prepare
    const { kinesis, store, processors, reader } = setup({ policy: 'on-shutdown' });
    kinesis.put(SHARD, 3);

    // Act
    void reader.start();
    await until(() => processors.records.length === 3);
    await reader.loseLease();

    // Assess
    expect(processors.processors[0]?.events.at(-1)).toBe('leaseLost');
    expect(store.history).toEqual([]);
  });
});
