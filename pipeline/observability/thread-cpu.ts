import { readFileSync, readlinkSync } from 'node:fs';

/**
 * CPU time of single OS threads, from Linux's /proc (elsewhere: undefined). `process.cpuUsage()`
 * sums every thread of the process; these split it, so a figure can say where the CPU went (the
 * event loop, the stage threads, or the rest: libuv's pool, DuckDB's and V8's own threads).
 */

/** /proc reports CPU times in USER_HZ ticks, 100 a second on every Linux architecture Node runs on. */
const USER_HZ = 100;

/** The OS thread id of the calling thread (main or worker), or undefined off Linux. */
export function osThreadId(): number | undefined {
  try {
    // "/proc/thread-self" links to "<pid>/task/<tid>".
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds of one thread of this process, or undefined when it cannot be read. */
export function threadCpuSeconds(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks / USER_HZ : undefined;
  } catch {
    return undefined;
  }
}
