import { type ChildProcess, spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../consumers/kinesis-client.ts';
import { createDynamoClient } from '../../consumers/leases/dynamo-client.ts';
import type { Lease } from '../../consumers/leases/lease.ts';
import { LeaseTable } from '../../consumers/leases/lease-table.ts';
import { startLocalDynamo } from '../../consumers/local-stack/dynamo-server.ts';
import { ensureStream } from '../../consumers/local-stack/ensure-stream.ts';
import { startLocalKinesis } from '../../consumers/local-stack/kinesis-server.ts';

/** What a worker did between its start and its exit on SIGTERM. */
export interface WorkerLifecycle {
  readonly exitCode: number | null;
  /** Owners of the leases while it ran, and after it exited (undefined = released). */
  readonly ownersWhileRunning: readonly (string | undefined)[];
  readonly ownersAfterExit: readonly (string | undefined)[];
  /** Exit code of the health check command once the worker was consuming (when one was given). */
  readonly healthCheckCode: number | null | undefined;
  /** Parquet files landed under the lake directory. */
  readonly parquetFiles: number;
  readonly stderr: string;
}

export interface WorkerLifecycleOptions {
  /** Directory the worker runs in (its `node_modules` and sources). */
  readonly cwd: string;
  /** The command, `node` first; the config is given as $SHARDLINE_CONFIG, not as a file. */
  readonly command: readonly string[];
  /** Run once the worker holds its leases: e.g. the image's HEALTHCHECK. */
  readonly healthCheck?: readonly string[];
  /** Where /metrics and /health listen, when the command passes `--metrics-port`. */
  readonly metricsPort?: number;
  /** A scratch directory: the lake lands there. */
  readonly dir: string;
}

export const freePort = async (): Promise<number> => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
};

const run = (command: readonly string[], cwd: string): Promise<number | null> =>
  new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd, stdio: 'ignore' });
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });

const parquetCount = async (dir: string): Promise<number> => {
  try {
    const entries = await readdir(dir, { recursive: true });
    return entries.filter((e) => e.endsWith('.parquet')).length;
  } catch {
    return 0;
  }
};

/**
 * Starts kinesalite and dynalite, runs `shardline consume` as a container would (config in
 * $SHARDLINE_CONFIG, DynamoDB leases, a local lake), waits until it holds every lease and lands
 * a record, runs the health check, sends SIGTERM and reads the lease table after it exited.
 */
export async function runWorkerLifecycle(options: WorkerLifecycleOptions): Promise<WorkerLifecycle> {
  const stream = 'deploy';
  const [kinesis, dynamo] = await Promise.all([
    startLocalKinesis({ httpPort: 0, httpsPort: 0 }),
    startLocalDynamo(),
  ]);
  const kinesisClient = createKinesisClient({ region: 'us-east-1', endpoint: kinesis.httpEndpoint });
  const dynamoClient = createDynamoClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
  const table = new LeaseTable({ client: dynamoClient, tableName: `shardline-leases-${stream}` });
  const lakeDir = join(options.dir, 'lake');
  let child: ChildProcess | undefined;
  try {
    await ensureStream(kinesisClient, stream, 2);
    const config = {
      stream: { name: stream, endpoint: kinesis.httpEndpoint, idleTimeBetweenReadsMs: 200 },
      checkpoints: {
        type: 'dynamodb',
        endpoint: dynamo.endpoint,
        failoverTimeMs: 3_000,
        renewalIntervalMs: 1_000,
      },
      lake: { type: 'local', dir: lakeDir },
      warehouse: { type: 'none' },
      batch: { maxAgeMs: 200 },
      enrich: { geoIp: false },
    };
    const [node, ...args] = options.command;
    const spawned = spawn(node === 'node' ? process.execPath : node!, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        SHARDLINE_LOG_LEVEL: 'info',
        SHARDLINE_CONFIG: JSON.stringify(config),
      },
    });
    child = spawned;
    let stderr = '';
    spawned.stderr?.on('data', (chunk) => {
      stderr = (stderr + String(chunk)).slice(-65_536);
    });
    const exited = new Promise<number | null>((resolve) => spawned.once('exit', (code) => resolve(code)));

    const owners = async () => (await table.list().catch(() => [] as Lease[])).map((l) => l.leaseOwner);
    let ownersWhileRunning: (string | undefined)[] = [];
    for (let i = 0; i < 300 && spawned.exitCode === null; i++) {
      ownersWhileRunning = await owners();
      if (ownersWhileRunning.length === 2 && ownersWhileRunning.every((o) => o !== undefined)) break;
      await sleep(100);
    }
    const now = new Date().toISOString();
    await kinesisClient.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: ['d-1', 'd-2', 'd-3'].map((id) => ({
          Data: Buffer.from(
            `{"timestamp":"${now}","request_id":"${id}","project_id":"p","method":"GET","path":"/","status":200,"latency_ms":1}\n`,
          ),
          PartitionKey: id,
        })),
      }),
    );
    let parquetFiles = 0;
    for (let i = 0; i < 200 && parquetFiles === 0 && spawned.exitCode === null; i++) {
      await sleep(100);
      parquetFiles = await parquetCount(join(lakeDir, 'requests'));
    }
    let healthCheckCode: number | null | undefined;
    if (options.healthCheck) {
      for (let i = 0; i < 50 && healthCheckCode !== 0; i++) {
        healthCheckCode = await run(options.healthCheck, options.cwd);
        if (healthCheckCode !== 0) await sleep(200);
      }
    }

    spawned.kill('SIGTERM');
    const exitCode = await exited;
    return {
      exitCode,
      ownersWhileRunning,
      ownersAfterExit: await owners(),
      healthCheckCode,
      parquetFiles,
      stderr,
    };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    kinesisClient.destroy();
    dynamoClient.destroy();
    await Promise.all([kinesis.close(), dynamo.close()]);
  }
}
