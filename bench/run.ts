/**
 * `npm run bench -- [--smoke] [--json | --json=FILE] [--only=cpu,http,keys,soak,stores,sql,inbox]`: the benchmark suite.
 * Prints markdown tables (or JSON with --json). --smoke runs every section with few iterations
 * so CI keeps it working; it asserts nothing about time.
 */
import { writeFileSync } from 'node:fs';
import { cpuTable, runCpuBench } from './cpu-bench.js';
import { inboxTable, runInboxBench } from './inbox-bench.js';
import { httpTable, runHttpBench } from './http-bench.js';
import { keyPathTables, runKeyPathBench } from './key-path-bench.js';
import { machineInfo } from './machine.js';
import { renderMarkdownTable, type ResultTable } from './markdown-table.js';
import { parseBenchOptions } from './options.js';
import { runSoakBench, soakTable } from './soak-bench.js';
import { runSqlBench, sqlTable } from './sql-bench.js';
import { runStoreBench, storeTable } from './store-bench.js';

async function main(): Promise<void> {
  const options = parseBenchOptions(process.argv.slice(2));
  const started = Date.now();
  const machine = machineInfo();
  const results: Record<string, unknown> = { mode: options.smoke ? 'smoke' : 'full', machine };
  const tables: ResultTable[] = [];
  const log = (line: string): void => {
    process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  };

  if (options.only.has('cpu')) {
    log('bench 1: CPU per webhook');
    const cpu = await runCpuBench(options.smoke);
    results.cpu = cpu;
    tables.push(cpuTable(cpu));
  }

  if (options.only.has('http')) {
    log('bench 2: HTTP throughput and latency');
    const http = await runHttpBench(options.smoke);
    results.http = http;
    tables.push(httpTable(http));
  }

  if (options.only.has('keys')) {
    log('bench 3: key path');
    const keys = await runKeyPathBench(options.smoke);
    results.keys = keys;
    tables.push(...keyPathTables(keys));
  }

  if (options.only.has('soak')) {
    log('bench 4: soak');
    const soak = await runSoakBench(options.smoke);
    results.soak = soak;
    tables.push(soakTable(soak));
  }

  if (options.only.has('stores')) {
    log('bench 5: idempotency stores (claim + complete per delivery)');
    const stores = await runStoreBench(options.smoke, log);
    results.stores = stores;
    tables.push(storeTable(stores));
  }

  if (options.only.has('sql')) {
    log('bench 7: the durable path\'s SQL, ours vs naive PostgreSQL routes');
    const sql = await runSqlBench(options.smoke);
    results.sql = sql;
    tables.push(sqlTable(sql));
  }

  if (options.only.has('inbox')) {
    log('bench 6: acknowledgement latency, direct handling vs the inbox');
    const inbox = await runInboxBench(options.smoke);
    results.inbox = inbox;
    tables.push(inboxTable(inbox));
  }

  results.seconds = (Date.now() - started) / 1000;
  results.loadAverageAtEnd = machineInfo().loadAverage;
  if (options.jsonFile !== undefined) writeFileSync(options.jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  const header = [
    `## kompliant-webhooks bench (${options.smoke ? 'smoke: numbers are meaningless' : 'full'})`,
    '',
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, Node ${machine.node} (${machine.platform}); took ${fixed1(results.seconds as number)} s.`,
    `Load average (1, 5, 15 min) at the start: ${machine.loadAverage.join(', ')}; at the end: ${(results.loadAverageAtEnd as number[]).join(', ')}.`,
  ];
  process.stdout.write(`${[...header, ...tables.map((t) => `\n${renderMarkdownTable(t)}`)].join('\n')}\n`);
}

function fixed1(value: number): string {
  return value.toFixed(1);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
