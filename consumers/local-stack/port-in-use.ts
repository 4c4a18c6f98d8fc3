import { ConfigError } from '../../pipeline/errors.ts';

/**
 * What a local server's failed `listen` becomes: a port in use is a config error naming the
 * flags that choose it (the CLI exits 2 with it); anything else is returned as it is.
 */
export const listenError = (
  error: unknown,
  host: string,
  port: number | undefined,
  flags: string,
): unknown =>
  (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
    ? new ConfigError(
        'port',
        `${host}:${port} is already in use: stop the process that holds it, or choose another port (${flags}, 0 for any free port)`,
        { cause: error },
      )
    : error;
