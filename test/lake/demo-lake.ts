import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConsumeConfig, parseConsumeConfig } from '../../consumers/cli/consume-config.ts';
import { runPipeline } from '../../consumers/cli/run-pipeline.ts';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import type { LocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';
import type { DemoProducerResult } from '../../fluent-bit/demo/demo-producer.ts';
import { runDemoProducer } from '../../fluent-bit/demo/demo-producer.ts';
import { silentLogger } from '../../pipeline/observability/logger.ts';
import type { PipelineCounters } from '../../pipeline/types.ts';
import { DuckDbWarehouse } from '../../pipeline/warehouse/duckdb-warehouse.ts';

export interface DemoLake {
  readonly dir: string;
  /** A `shardline consume` config file for the lake, stream and warehouse (what the commands take). */
  readonly configFile: string;
  readonly config: ConsumeConfig;
  readonly sent: DemoProducerResult;
  readonly counters: PipelineCounters;
  readonly warehouseFile: string;
}

/**
 * A demo run, as `npm start -- --demo-events N --exit` makes one: demo traffic through kinesalite,
 * consumed into a lake (local, or `lake` given) and the embedded warehouse, then stopped.
 * `pipeline` overrides pipeline settings of the run (and of the config file the commands read).
 */
export const demoLake = async (
  kinesis: LocalKinesis,
  options: {
    readonly stream: string;
    readonly events: number;
    readonly lake?: Record<string, unknown>;
    readonly pipeline?: Record<string, unknown>;
    readonly seed?: number;
  },
): Promise<DemoLake> => {
  const dir = await mkdtemp(join(tmpdir(), `shardline-${options.stream}-`));
  const client = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
  await ensureStream(client, options.stream, 2);
  const sent = await runDemoProducer({
    client,
    streamName: options.stream,
    events: options.events,
    seed: options.seed ?? 7,
  });
  const warehouseFile = join(dir, 'warehouse.duckdb');
  const json = {
    stream: { name: options.stream, endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
    checkpoints: { path: join(dir, 'checkpoints.json') },
    lake: options.lake ?? { type: 'local', dir: join(dir, 'lake') },
    warehouse: { type: 'duckdb', file: warehouseFile },
    batch: { maxAgeMs: 500 },
    enrich: { geoIp: false },
    ...options.pipeline,
  };
  const config = parseConsumeConfig(json);
  const running = await runPipeline(config, { logger: silentLogger, client });
  const c = running.pipeline.counters;
  for (let i = 0; i < 600 && c.landed + c.deduplicated + c.deadLettered < sent.sent; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await running.stop();
  client.destroy();
  const configFile = join(dir, 'consume.json');
  await writeFile(configFile, JSON.stringify(json));
  return { dir, configFile, config, sent, counters: { ...c }, warehouseFile };
};

/** Rows, distinct requests and checksums of a few columns: what must not change. */
export const warehouseFigures = async (file: string): Promise<Record<string, unknown>> => {
  const warehouse = await DuckDbWarehouse.open(file);
  try {
    const [row] = await warehouse.query(
      `SELECT count(*) AS n, count(DISTINCT (project_id, request_id)) AS requests,
              count(DISTINCT (project_id, request_id, ts)) AS keys,
              sum(hash(status, endpoint, latency_ms, headers, country))::VARCHAR AS checksum
       FROM requests`,
    );
    return row!;
  } finally {
    await warehouse.close();
  }
};

/** Collects what a command writes. */
export const sink = () => {
  let text = '';
  return {
    stream: {
      write: (chunk: string) => {
        text += chunk;
        return true;
      },
    } as unknown as NodeJS.WritableStream,
    text: () => text,
    /** The JSON summary a command prints as its last line. */
    last: () => JSON.parse(text.trim().split('\n').at(-1)!) as Record<string, unknown>,
  };
};
