// The `inbox` command: list, show and replay the jobs of a pg-boss inbox (never their payloads, unless asked to decrypt).
import { parseArgs } from 'node:util';
import { isWebhookError } from '../../wire/errors.js';
import { openEnvelope } from '../../wire/open-envelope.js';
import { DEFAULT_QUEUE, checkQueueName, deadLetterQueue } from '../../integrations/pg-boss/boss.js';
import { readSecret, SECRET_HELP, SECRET_OPTIONS, type CliIo } from '../input.js';
import type { CliCommand } from '../command.js';
import { EXIT, UsageError } from '../args.js';
import { importOptionalPeer } from '../optional-peer.js';

/** A job as pg-boss's findJobs returns it (the fields this command reads). */
interface FoundJob {
  id: string;
  state: string;
  retryCount: number;
  createdOn: Date;
  output: unknown;
  data: unknown;
}

/** The pg-boss calls this command makes. */
interface BossForCli {
  start(): Promise<unknown>;
  stop(options?: object): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  findJobs(name: string, options?: object): Promise<FoundJob[]>;
  send(name: string, data: object, options?: object): Promise<string | null>;
  redrive(name: string, options?: object): Promise<number>;
}

const OPTIONS = {
  ...SECRET_OPTIONS,
  'database-url': { type: 'string' },
  queue: { type: 'string' },
  state: { type: 'string' },
  'key-id': { type: 'string' },
  'event-type': { type: 'string' },
  'dead-letter': { type: 'boolean' },
  since: { type: 'string' },
  decrypt: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

const STATES = ['queued', 'active', 'retry', 'failed', 'completed', 'dead', 'all'] as const;

interface JobRow {
  queue: string;
  id: string;
  state: string;
  eventType: string;
  accountId: string;
  keyId: string;
  eventId: string;
  attempts: number;
  lastError: string;
  created: string;
}

function field(data: unknown, name: string): string {
  const value = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)[name] : undefined;
  return typeof value === 'string' ? value : '';
}

// The code of the error that failed the last attempt: pg-boss keeps the serialized error as the job's output.
function lastErrorCode(job: FoundJob): string {
  if (job.state !== 'failed' && job.state !== 'retry') return '';
  // A WebhookError serializes through its toJSON ({ error: { code } }); other errors keep their own code or name.
  const output = job.output as { code?: unknown; name?: unknown; error?: { code?: unknown } } | null;
  if (typeof output?.error?.code === 'string') return output.error.code;
  if (typeof output?.code === 'string') return output.code;
  return typeof output?.name === 'string' ? output.name : 'unknown';
}

function rowOf(queue: string, job: FoundJob, dead: boolean): JobRow {
  return {
    queue,
    id: job.id,
    state: dead ? 'dead' : job.state === 'created' ? 'queued' : job.state,
    eventType: field(job.data, 'eventType'),
    accountId: field(job.data, 'accountId'),
    keyId: field(job.data, 'keyId'),
    eventId: field(job.data, 'eventId'),
    attempts: job.retryCount + (job.state === 'created' ? 0 : 1),
    lastError: lastErrorCode(job),
    created: new Date(job.createdOn).toISOString(),
  };
}

async function loadBoss(databaseUrl: string): Promise<BossForCli> {
  const module = (await importOptionalPeer(() => import('pg-boss'), 'pg-boss', 'inbox')) as unknown as { PgBoss: new (options: object) => BossForCli };
  // A reader, not a worker: no maintenance, no schedules, no schema changes.
  const boss = new module.PgBoss({ connectionString: databaseUrl, supervise: false, schedule: false, migrate: false, createSchema: false });
  // pg-boss reports background errors as events; the command's own calls still reject.
  boss.on('error', () => undefined);
  await boss.start();
  return boss;
}

async function allJobs(boss: BossForCli, queue: string): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  for (const [name, dead] of [
    [queue, false],
    [deadLetterQueue(queue), true],
  ] as const) {
    for (const job of await boss.findJobs(name, { limit: 100_000 })) rows.push(rowOf(name, job, dead));
  }
  return rows;
}

function printRows(rows: readonly JobRow[], json: boolean, io: CliIo): void {
  if (json) {
    io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    io.stdout('no jobs\n');
    return;
  }
  io.stdout('id                                    state      event_type                                 account_id            key_id                  attempts  last_error\n');
  for (const r of rows) {
    io.stdout(`${r.id.padEnd(38)}${r.state.padEnd(11)}${r.eventType.padEnd(43)}${r.accountId.padEnd(22)}${r.keyId.padEnd(24)}${String(r.attempts).padEnd(10)}${r.lastError}\n`);
  }
}

/** `inbox`: the jobs of a pg-boss inbox. */
export const inboxCommand: CliCommand = {
  name: 'inbox',
  summary: 'list, show and replay the jobs of a pg-boss inbox',
  help: `Usage: kompliant-webhooks inbox list   [--state STATE] [--key-id ID] [--event-type TYPE] [--json]
       kompliant-webhooks inbox show   JOB_ID [--decrypt secret option]
       kompliant-webhooks inbox replay JOB_ID | --dead-letter | --since TIME [--event-type TYPE]

Reads the inbox queue of kompliant-webhooks/pg-boss (needs the pg-boss package). Prints job
metadata only: id, state, event type, account, key id, attempts, the code of the last error.

  --database-url URL  PostgreSQL connection string (default: the DATABASE_URL variable,
                      which keeps credentials out of the command line)
  --queue NAME        the inbox queue (default: ${DEFAULT_QUEUE}; dead letters in NAME.dead)
  --state STATE       list only ${STATES.join(', ')} (default: all)
  --key-id ID         list only jobs that need this key: a rotation has drained when this
                      lists nothing but completed jobs
  --event-type TYPE   list or replay only this event type
  --dead-letter       replay every dead-lettered job (moved back to the queue)
  --since TIME        replay every job received at or after TIME (ISO 8601), as new jobs
  --decrypt           show: decrypt the job's envelope with the secret (prints personal data)
  --json              list: print JSON

Exit 0 on success, 1 when the job is not found or does not open, 2 on a usage error or
when the pg-boss package is not installed.

${SECRET_HELP}`,
  async run(args, io) {
    let parsed;
    try {
      parsed = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: true });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const { values, positionals } = parsed;
    const [verb, jobId, ...extra] = positionals;
    if (verb !== 'list' && verb !== 'show' && verb !== 'replay') throw new UsageError('the first argument must be list, show or replay');
    if (extra.length > 0 || (verb === 'list' && jobId !== undefined)) throw new UsageError('too many arguments');
    const databaseUrl = values['database-url'] ?? io.env.DATABASE_URL;
    if (databaseUrl === undefined || databaseUrl === '') throw new UsageError('give --database-url or set DATABASE_URL');
    let queue: string;
    try {
      queue = checkQueueName(values.queue, '--queue');
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    const state = values.state ?? 'all';
    if (!(STATES as readonly string[]).includes(state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    const since = values.since === undefined ? undefined : new Date(values.since);
    if (since !== undefined && Number.isNaN(since.getTime())) throw new UsageError('--since must be a time such as 2026-12-01T00:00:00Z');
    if (verb === 'replay' && [jobId !== undefined, values['dead-letter'] === true, since !== undefined].filter(Boolean).length !== 1) {
      throw new UsageError('replay takes exactly one of JOB_ID, --dead-letter, --since');
    }
    if (verb === 'show' && jobId === undefined) throw new UsageError('show needs a JOB_ID');
    // Read before connecting, so a missing secret is a usage error that costs no connection.
    const secret = verb === 'show' && values.decrypt === true ? await readSecret(values, io) : undefined;

    const boss = await loadBoss(databaseUrl);
    try {
      const rows = await allJobs(boss, queue);
      const eventType = values['event-type'];
      if (verb === 'list') {
        printRows(
          rows.filter(
            (r) =>
              (state === 'all' || r.state === state) &&
              (values['key-id'] === undefined || r.keyId === values['key-id']) &&
              (eventType === undefined || r.eventType === eventType),
          ),
          values.json === true,
          io,
        );
        return EXIT.OK;
      }
      if (verb === 'show') {
        const row = rows.find((r) => r.id === jobId);
        if (row === undefined) {
          io.stderr(`inbox: no job ${JSON.stringify(jobId)} in ${queue} or its dead-letter queue\n`);
          return EXIT.FAILED;
        }
        io.stdout(`${JSON.stringify(row, null, 2)}\n`);
        if (secret === undefined) return EXIT.OK;
        io.stderr('inbox: --decrypt prints the event, which holds personal data: keep the output out of logs and tickets\n');
        const [job] = await boss.findJobs(row.queue, { id: row.id });
        try {
          io.stdout(`${JSON.stringify(openEnvelope((job?.data as { envelope?: unknown } | undefined)?.envelope, secret), null, 2)}\n`);
          return EXIT.OK;
        } catch (error) {
          if (!isWebhookError(error)) throw error;
          io.stderr(`${error.code}: ${error.message}\n`);
          return EXIT.FAILED;
        }
      }
      // replay
      if (values['dead-letter'] === true) {
        const dead = rows.filter((r) => r.state === 'dead' && (eventType === undefined || r.eventType === eventType));
        const moved = dead.length === 0 ? 0 : await boss.redrive(deadLetterQueue(queue), { ids: dead.map((r) => r.id), destination: queue });
        io.stdout(`replayed ${moved} dead-lettered job(s) onto ${queue}\n`);
        return EXIT.OK;
      }
      const chosen =
        jobId !== undefined
          ? rows.filter((r) => r.id === jobId)
          : rows.filter((r) => r.queue === queue && since !== undefined && new Date(r.created) >= since && (eventType === undefined || r.eventType === eventType));
      if (jobId !== undefined && chosen.length === 0) {
        io.stderr(`inbox: no job ${JSON.stringify(jobId)} in ${queue} or its dead-letter queue\n`);
        return EXIT.FAILED;
      }
      let replayed = 0;
      for (const row of chosen) {
        if (row.state === 'dead') {
          replayed += await boss.redrive(deadLetterQueue(queue), { ids: [row.id], destination: queue });
          continue;
        }
        const [job] = await boss.findJobs(row.queue, { id: row.id });
        // A new job with the same envelope: the original keeps its history; the worker runs it again.
        if (job !== undefined && (await boss.send(queue, job.data as object)) !== null) replayed += 1;
      }
      io.stdout(`replayed ${replayed} job(s) onto ${queue}\n`);
      return EXIT.OK;
    } finally {
      await boss.stop({ graceful: false, close: true, timeout: 5000 });
    }
  },
};
