/**
 * The CPU time of a process's main thread, read from Linux's /proc (the sandbox watchdog's
 * measure of the child's own progress: watchdog.ts). null where it cannot be read (another OS,
 * the process gone).
 */
import { readFileSync } from "node:fs";

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every Linux ABI Node runs on. */
const MS_PER_TICK = 10;

export function mainThreadCpuMs(pid: number): number | null {
  let text: string;
  try {
    // The main thread's task id is the process id.
    text = readFileSync(`/proc/${pid}/task/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  return cpuMsOfStat(text);
}

/** utime + stime of a /proc stat line, in ms. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted from its last ")": state is field 3, utime 14, stime 15. */
export function cpuMsOfStat(text: string): number | null {
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return (utime + stime) * MS_PER_TICK;
}

/** The resident memory of a process in MB (VmRSS of /proc/<pid>/status); null where unknown. */
export function residentMb(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "latin1");
  } catch {
    return null;
  }
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(text);
  return kb === null ? null : Number(kb[1]) / 1024;
}
