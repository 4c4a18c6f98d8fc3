import { startUiServer } from './ui/ui-server.ts';
import { openWarehouseClient, type WarehouseTarget } from './warehouse-client.ts';

/** `shardline ui`: the dashboard page over a warehouse, until Ctrl-C. */
export const runUi = async (options: WarehouseTarget & { port: number; host: string }): Promise<number> => {
  const client = await openWarehouseClient(options);
  const server = await startUiServer({ port: options.port, host: options.host, client });
  process.stderr.write(`Shardline dashboard  ${server.url}/\n  over ${client.describe}\n  Ctrl-C to stop\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  await client.close();
  return 0;
};
