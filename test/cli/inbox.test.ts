// `kompliant-webhooks inbox` against a real PostgreSQL and pg-boss: list without payloads, the key-id
// filter, show with and without --decrypt, replay of dead letters and of one job.
import { PgBoss } from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import { inboxJobId } from '../../src/inbox/inbox.js';
import { pgBossInbox, startInboxWorker, type InboxWorker } from '../../src/pg-boss.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { inboxMetaOf } from '../support/inbox.js';
import { until } from '../support/poll.js';
import { postgresConnection, postgresSkipReason, startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

const skip = postgresSkipReason();
if (skip !== undefined) console.warn(`\n!!! test/cli/inbox.test.ts ${skip}\n`);

describe('inbox command usage', () => {
  it('needs a verb and a database', async () => {
    expect((await runCli(['inbox'])).code).toBe(2);
    const noDb = await runCli(['inbox', 'list']);
    expect(noDb.code).toBe(2);
    expect(noDb.stderr).toMatch(/DATABASE_URL/);
    const both = await runCli(['inbox', 'replay', 'x', '--dead-letter'], { env: { DATABASE_URL: 'postgresql://unused/db' } });
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exactly one of/);
  });
});

describe.skipIf(skip !== undefined)('inbox command against a real PostgreSQL', () => {
  let server: PostgresServer;
  let boss: PgBoss;
  let env: Record<string, string>;
  const workers: InboxWorker[] = [];
  const queue = 'kompliant-webhooks';
  const good = createTestWebhook({ keyId: KEY_ID, secret: SECRET, eventType: 'WORKFLOW_COMPLETED' });
  const old = createTestWebhook({ keyId: 'whk_20240101_01', secret: SECRET, eventType: 'DECISION_DOCUMENT_GENERATED' });

  beforeAll(async () => {
    server = await startPostgresServer();
    const c = postgresConnection(server);
    env = { DATABASE_URL: `postgresql://${c.user}@localhost:${c.port}/${c.database}?host=${encodeURIComponent(c.host)}`, KOMPLIANT_WEBHOOK_SECRET: SECRET };
    boss = new PgBoss({ ...c, max: 4 });
    boss.on('error', () => undefined);
    await boss.start();
    const inbox = pgBossInbox({ boss, retryLimit: 0 });
    for (const envelope of [good, old]) {
      await inbox.enqueue(envelope, inboxMetaOf(envelope));
    }
    // A worker that has only the current key: the old-key job fails into the dead-letter queue.
    workers.push(await startInboxWorker({ boss, keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent: () => undefined, retryLimit: 0, pollingIntervalSeconds: 0.5 }));
    await until(() => boss.findJobs(`${queue}.dead`), (jobs) => jobs.length === 1);
    await until(() => boss.findJobs(queue, { id: inboxJobId(good.account_id, good.id) }), (jobs) => jobs[0]?.state === 'completed');
    await workers[0]!.stop({ timeoutMs: 5000 });
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop({ timeoutMs: 5000 });
    await boss?.stop({ graceful: false, close: true, timeout: 5000 });
    await server?.remove();
  });

  it('lists metadata and the last error code, never the payload', async () => {
    const result = await runCli(['inbox', 'list', '--json'], { env });
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout) as Array<{ id: string; state: string; keyId: string; lastError: string; eventType: string }>;
    expect(rows.map((r) => [r.state, r.eventType]).toSorted()).toEqual([
      ['completed', 'WORKFLOW_COMPLETED'],
      ['dead', 'DECISION_DOCUMENT_GENERATED'],
      ['failed', 'DECISION_DOCUMENT_GENERATED'],
    ]);
    expect(rows.find((r) => r.state === 'failed')?.lastError).toBe('UNKNOWN_KEY');
    expect(result.stdout).not.toContain(good.data);
    expect(result.stdout).not.toContain(old.data);

    const byKey = await runCli(['inbox', 'list', '--key-id', 'whk_20240101_01'], { env });
    expect(byKey.stdout).toContain('DECISION_DOCUMENT_GENERATED');
    expect(byKey.stdout).not.toContain('WORKFLOW_COMPLETED');
  });

  it('shows one job, and decrypts it only with --decrypt and a secret, with a warning', async () => {
    const id = inboxJobId(good.account_id, good.id);
    const plain = await runCli(['inbox', 'show', id], { env });
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(good.id);
    expect(plain.stdout).not.toContain('subject_record_id');
    const decrypted = await runCli(['inbox', 'show', id, '--decrypt'], { env });
    expect(decrypted.code).toBe(0);
    expect(decrypted.stdout).toContain('subject_record_id');
    expect(decrypted.stderr).toMatch(/personal data/);
    expect((await runCli(['inbox', 'show', '00000000-0000-4000-8000-000000000000'], { env })).code).toBe(1);
  });

  it('replays dead letters onto the queue for a fixed worker, and one completed job as a new job', async () => {
    const replay = await runCli(['inbox', 'replay', '--dead-letter'], { env });
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/replayed 1 dead-lettered/);
    const seen: string[] = [];
    workers.push(
      await startInboxWorker({
        boss,
        keyStore: memoryKeyStore({ [KEY_ID]: SECRET, whk_20240101_01: SECRET }),
        onEvent: (event) => void seen.push(event.id),
        pollingIntervalSeconds: 0.5,
      }),
    );
    await until(async () => seen, (ids) => ids.length === 1);
    expect(seen).toEqual([old.id]);

    const one = await runCli(['inbox', 'replay', inboxJobId(good.account_id, good.id)], { env });
    expect(one.stdout).toMatch(/replayed 1 job/);
    await until(async () => seen, (ids) => ids.length === 2);
    expect(seen[1]).toBe(good.id);
  });
});
