import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

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
