import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';

/** What the numbers were measured on. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  node: string;
  platform: string;
  /** 1, 5 and 15 minute load averages when the run started (other work on a shared machine). */
  loadAverage: number[];
}

/** CPU model from /proc/cpuinfo (Linux), core count and Node version. */
export function machineInfo(): MachineInfo {
  let cpuModel = 'unknown';
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1] !== undefined) cpuModel = match[1].trim();
  } catch {
    // Not Linux: leave it unknown.
  }
  return {
    cpuModel,
    cores: availableParallelism(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadAverage: loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

/**
 * Pins every thread of process `pid` to the CPUs `cores` (a taskset list: `'1'`, `'0-1'`) with
 * `taskset -a -p` (Linux, util-linux), as the HTTP bench does: the server on one core, the load
 * generator on another, so the two do not take turns on the same core. Processes started later
 * inherit the setting. Returns false, changing nothing, where that is not possible (another
 * OS, no taskset, fewer than two cores).
 */
export function pinToCores(pid: number, cores: string): boolean {
  // cpus(), not availableParallelism(): the latter counts only the cores this process may use,
  // which is one once the bench has pinned itself.
  if (process.platform !== 'linux' || cpus().length < 2) return false;
  const result = spawnSync('taskset', ['-a', '-p', '-c', cores, String(pid)], { stdio: 'ignore' });
  return result.status === 0;
}

/** The taskset list of every core of this machine (`'0-1'` on two cores). */
export function allCores(): string {
  return `0-${cpus().length - 1}`;
}
