import { Bench } from 'tinybench';
import { median } from './summary-statistics.js';

/** One measured operation: called `batch` times per tinybench sample. */
export interface TimedTask {
  name: string;
  run: () => unknown;
  /** Awaited on every call (an async API such as receive()). */
  async: boolean;
}

/** Calls per sample so that one sample lasts about `targetUs`, from a short calibration. */
async function batchSize(task: TimedTask, targetUs: number): Promise<number> {
  for (let k = 0; k < 20; k++) await task.run();
  const start = process.hrtime.bigint();
  for (let k = 0; k < 20; k++) await task.run();
  const perCallUs = Number(process.hrtime.bigint() - start) / 1000 / 20;
  return Math.max(1, Math.round(targetUs / Math.max(perCallUs, 0.01)));
}

function samplerFor(task: TimedTask, batch: number): () => unknown {
  if (task.async) {
    return async () => {
      for (let k = 0; k < batch; k++) await task.run();
    };
  }
  return () => {
    for (let k = 0; k < batch; k++) task.run();
  };
}

/**
 * Times `tasks` with tinybench in `rounds` rounds, rotating their order every round (so load
 * from other processes hits all of them alike), with calls batched so each sample is ~0.5 ms.
 * Returns, per task name, the median over rounds of the per-round median in microseconds per call.
 */
export async function measureInterleaved(tasks: readonly TimedTask[], smoke: boolean): Promise<Record<string, number>> {
  const rounds = smoke ? 1 : 5;
  const batches = new Map<string, number>();
  for (const task of tasks) batches.set(task.name, smoke ? 1 : await batchSize(task, 500));
  const perRound = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  for (let round = 0; round < rounds; round++) {
    const bench = smoke
      ? new Bench({ time: 5, warmupTime: 1, iterations: 3, warmupIterations: 1 })
      : new Bench({ time: 150, warmupTime: 30, iterations: 20, warmupIterations: 5 });
    for (let k = 0; k < tasks.length; k++) {
      const task = tasks[(k + round) % tasks.length] as TimedTask;
      bench.add(task.name, samplerFor(task, batches.get(task.name) ?? 1));
    }
    await bench.run();
    for (const t of bench.tasks) {
      const result = t.result;
      if (result.state !== 'completed') throw new Error(`${t.name}: ${result.state === 'errored' ? result.error.message : result.state}`);
      perRound.get(t.name)?.push((result.latency.p50 * 1000) / (batches.get(t.name) ?? 1));
    }
  }
  const usPerOp: Record<string, number> = {};
  for (const [name, values] of perRound) usPerOp[name] = median(values);
  return usPerOp;
}
