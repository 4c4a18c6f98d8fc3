import { ConfigError } from '../../pipeline/errors.ts';
import type { RequestLoggerOptions } from './request-logger-options.ts';

/**
 * The file options of `createRequestLogger` from environment variables, as the Kubernetes example
 * (fluent-bit/kubernetes/deployment.yaml) sets them; its test reads the sizes through this same
 * function, so the manifest and the app cannot disagree on what the variables mean.
 *
 * | variable | option |
 * | --- | --- |
 * | REQUEST_LOG_FILE | `file` (unset: stdout) |
 * | REQUEST_LOG_MAX_BYTES | `maxBytes`: bytes, or a number with `Ki`, `Mi` or `Gi` (`128Mi`) |
 * | REQUEST_LOG_MAX_FILES | `maxFiles` |
 * | REQUEST_LOG_REOPEN_ON_SIGHUP | `reopenOnSighup` (`true` or `false`) |
 *
 * @example
 * createRequestLogger({ projectId: 'proj_api', service: 'api', ...requestLogFileOptionsFromEnv() })
 */
export function requestLogFileOptionsFromEnv(
  env: Record<string, string | undefined> = process.env,
): Pick<RequestLoggerOptions, 'file' | 'maxBytes' | 'maxFiles' | 'reopenOnSighup'> {
  const options: ReturnType<typeof requestLogFileOptionsFromEnv> = {};
  const file = env.REQUEST_LOG_FILE;
  if (file !== undefined && file !== '') options.file = file;
  const maxBytes = env.REQUEST_LOG_MAX_BYTES;
  if (maxBytes !== undefined && maxBytes !== '')
    options.maxBytes = parseByteSize('REQUEST_LOG_MAX_BYTES', maxBytes);
  const maxFiles = env.REQUEST_LOG_MAX_FILES;
  if (maxFiles !== undefined && maxFiles !== '') {
    if (!/^\d+$/.test(maxFiles))
      throw new ConfigError('REQUEST_LOG_MAX_FILES', `"${maxFiles}" is not a count`);
    options.maxFiles = Number(maxFiles);
  }
  const reopen = env.REQUEST_LOG_REOPEN_ON_SIGHUP;
  if (reopen !== undefined && reopen !== '') {
    if (reopen !== 'true' && reopen !== 'false')
      throw new ConfigError('REQUEST_LOG_REOPEN_ON_SIGHUP', `"${reopen}" is not true or false`);
    options.reopenOnSighup = reopen === 'true';
  }
  return options;
}

const UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** Kubernetes' binary suffixes only: `128M` would be ambiguous between 10^6 and 2^20. */
function parseByteSize(variable: string, text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(text.trim());
  if (m === null) throw new ConfigError(variable, `"${text}" is not a size; write bytes or e.g. 128Mi`);
  return Number(m[1]) * UNITS[m[2] ?? '']!;
}
