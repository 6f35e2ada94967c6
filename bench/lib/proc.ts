// Reads a process's CPU time and memory from /proc (Linux only). The benchmarks compare servers by
// CPU per request, which stays steady on a noisy shared machine where wall-clock throughput does not.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface ProcessSample {
  /** utime + stime of every thread of the process, in microseconds. */
  cpuUs: number;
  /** utime alone (user space: the process's own code), in microseconds. */
  userCpuUs: number;
  /** Resident set size now, in bytes. */
  rssBytes: number;
  /** Peak resident set size over the process's life (VmHWM), in bytes. */
  peakRssBytes: number;
  /** System calls that read and that wrote (syscr, syscw of /proc/<pid>/io); undefined where unreadable. */
  readCalls?: number;
  writeCalls?: number;
}

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat; 100 on every common Linux build. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * utime + stime in clock ticks from the text of /proc/<pid>/stat. The command name (field 2) is in
 * parentheses and may itself hold spaces or parentheses, so fields are counted from the last ')'.
 */
export function parseStatCpuTicks(stat: string): number {
  const { utime, stime } = parseStatUserSystemTicks(stat);
  return utime + stime;
}

/** utime (user space) and stime (kernel, on the process's behalf) in clock ticks, as parseStatCpuTicks reads them. */
export function parseStatUserSystemTicks(stat: string): { utime: number; stime: number } {
  const close = stat.lastIndexOf(')');
  if (close === -1) throw new Error('not a /proc/<pid>/stat line: no command name');
  // After ") " come field 3 (state) onwards; utime and stime are fields 14 and 15.
  const fields = stat.slice(close + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('not a /proc/<pid>/stat line: no utime/stime');
  return { utime, stime };
}

/** A `VmXXX:   1234 kB` line of /proc/<pid>/status, in bytes (0 when absent, as for kernel threads). */
export function parseStatusKb(status: string, key: string): number {
  const match = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** A `key: 123` line of /proc/<pid>/io; undefined when absent. */
export function parseIoCount(io: string, key: string): number | undefined {
  const match = new RegExp(`^${key}: (\\d+)$`, 'm').exec(io);
  return match ? Number(match[1]) : undefined;
}

/** Samples a running process; undefined when it has gone. */
export function sampleProcess(pid: number): ProcessSample | undefined {
  let stat: string;
  let status: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  let io: string | undefined;
  try {
    io = readFileSync(`/proc/${pid}/io`, 'utf8');
  } catch {
    // Another user's process, or a kernel without task I/O accounting: the counts are optional.
  }
  return {
    ...(io ? { readCalls: parseIoCount(io, 'syscr'), writeCalls: parseIoCount(io, 'syscw') } : {}),
    cpuUs: (parseStatCpuTicks(stat) * 1e6) / clockTicksPerSecond(),
    userCpuUs: (parseStatUserSystemTicks(stat).utime * 1e6) / clockTicksPerSecond(),
    rssBytes: parseStatusKb(status, 'VmRSS'),
    peakRssBytes: parseStatusKb(status, 'VmHWM'),
  };
}

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS, so that a later sample's
 * `peakRssBytes` is the peak of what happened in between (Linux: `5` to /proc/<pid>/clear_refs;
 * needs the right to write there). False when it could not.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
