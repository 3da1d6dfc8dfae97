/**
 * The whole loop on embedded defaults, in a few seconds (`npm start`):
 * a local Kompliant emulator, a key created and activated through the API client, a local
 * Express receiver registered as the webhook URL, events emitted and decrypted, a zero-downtime
 * key rotation while events keep flowing, and a retry after a deliberately failing handler.
 *
 * Run: `npm start` in this repository, or `npx tsx examples/demo.ts` with `express` installed.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { kompliantWebhook, type KeyStore, type KompliantEvent } from 'kompliant-webhooks';
import { createKompliantClient, rotateWebhookKey, type SecretSink } from 'kompliant-webhooks/client';
import { startEmulator } from 'kompliant-webhooks/emulator';

const log = (line: string): void => console.log(line);

log(
  'kompliant-webhooks demo: a local Kompliant emulator sends encrypted webhooks to an Express receiver.\n' +
    'It will show: a key created and activated through the key API; events decrypted; the key rotated\n' +
    'while events keep flowing (none rejected); a handler that fails once, and the retry that succeeds.\n',
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
await client.createConfig({ accountId: account.accountId, url: receiverUrl });
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

await emulator.close();
server.closeAllConnections();
await new Promise<void>((resolve) => server.close(() => resolve()));
const ok = all.every((d) => d.state === 'delivered') && failedAttempts === 1 && byKey.size === 2;
log(
  ok
    ? `\nverdict       OK: every event delivered and decrypted across the rotation (${byKey.size} keys), the event whose handler failed once was retried and delivered.`
    : `\nverdict       FAILED: expected every delivery delivered, exactly 1 failed attempt and 2 keys used; see the lines above.`,
);
process.exitCode = ok ? 0 : 1;
