import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKompliantClient } from '../../src/client.js';
import { ksig1Headers } from '../../src/key-api/ksig.js';
import { EmitError, startEmulator } from '../../src/emulator.js';
import { credentialsOf, startEmulatorWithClient, type EmulatorFixture } from '../support/emulator.js';
import { startTestReceiver, type TestReceiver } from '../support/receiver.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

const payload = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u_1', user_type: 'USER' } };

/** Emulator with an active key and one registered local receiver. */
async function setup(options: Parameters<typeof startEmulatorWithClient>[0] = {}): Promise<EmulatorFixture & { receiver: TestReceiver; keyId: string }> {
  const f = await startEmulatorWithClient({ allowHttpLocalhost: true, timeScale: 0.001, attemptTimeoutMs: 5_000, ...options });
  running.push(f.emulator);
  const receiver = await startTestReceiver();
  running.push(receiver);
  const key = await f.client.createKey({ accountId: f.account.accountId });
  receiver.secrets.set(key.key_id, key.shared_secret);
  await f.client.activateKey({ keyId: key.key_id });
  await f.client.createConfig({ accountId: f.account.accountId, url: receiver.url });
  return { ...f, receiver, keyId: key.key_id };
}

describe('emulator delivery', () => {
  it('encrypts with the ACTIVE key so the library decrypts it, and POSTs to every configured URL', async () => {
    const { emulator, account, client, receiver, keyId } = await setup();
    const second = await startTestReceiver();
    running.push(second);
    second.secrets.set(keyId, receiver.secrets.get(keyId)!);
    await client.createConfig({ accountId: account.accountId, url: second.url });

    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'WORKFLOW_COMPLETED', data: payload });
    expect(emitted.deliveries).toHaveLength(2);
    await emulator.idle();
    for (const r of [receiver, second]) {
      expect(r.events).toHaveLength(1);
      expect(r.events[0]).toMatchObject({ id: emitted.eventId, key_id: keyId, account_id: account.accountId, event_type: 'WORKFLOW_COMPLETED', schema_version: '2025-11-21', retry_count: 0, data: payload });
    }
    expect(emulator.deliveries({ eventId: emitted.eventId }).map((d) => d.state)).toEqual(['delivered', 'delivered']);
  });

  it('retries a failing receiver with backoff: same id and ciphertext, retry_count + 1, until a 200', async () => {
    const { emulator, account, receiver } = await setup();
    receiver.failNext = 3;
    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'DOCUMENT_UPLOADED', data: payload });
    await emulator.idle();
    expect(receiver.bodies.map((b) => b.retry_count)).toEqual([0, 1, 2, 3]);
    expect(new Set(receiver.bodies.map((b) => b.id))).toEqual(new Set([emitted.eventId]));
    expect(new Set(receiver.bodies.map((b) => b.data))).toEqual(new Set([emitted.envelope.data]));
    expect(receiver.events).toHaveLength(1);
    expect(receiver.events[0]!.retry_count).toBe(3);
    const [delivery] = emulator.deliveries({ eventId: emitted.eventId });
    expect(delivery!.state).toBe('delivered');
    expect(delivery!.attempts.map((a) => a.status)).toEqual([500, 500, 500, 200]);
    // The schedule is exponential (1 s, 2 s, 4 s, ... at time scale 1), capped at 1 h.
    expect([1, 2, 3, 4].map((n) => emulator.retryDelayMs(n))).toEqual([1, 2, 4, 8]);
    expect(emulator.retryDelayMs(95)).toBe(3_600);
  });

  it('gives up after maxRetries and logs every attempt as failed', async () => {
    const { emulator, account, receiver } = await setup({ maxRetries: 4 });
    receiver.failNext = 100;
    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'X', data: payload });
    await emulator.idle();
    const [delivery] = emulator.deliveries({ eventId: emitted.eventId });
    expect(delivery!.state).toBe('failed');
    expect(delivery!.attempts.map((a) => a.retryCount)).toEqual([0, 1, 2, 3, 4]);
    expect(receiver.bodies).toHaveLength(5);
  });

  it('defaults to 95 retries', async () => {
    const { emulator, account, receiver } = await setup({ timeScale: 0.0000001 });
    receiver.failNext = 1_000;
    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'X', data: payload });
    await emulator.idle();
    const [delivery] = emulator.deliveries({ eventId: emitted.eventId });
    expect(delivery!.attempts).toHaveLength(96);
    expect(delivery!.attempts.at(-1)!.retryCount).toBe(95);
  });

  it('counts no answer within the attempt timeout as a failure and retries', async () => {
    const { emulator, account, receiver } = await setup({ attemptTimeoutMs: 100, maxRetries: 1 });
    receiver.hang = true;
    const emitted = emulator.emit({ accountId: account.accountId, eventType: 'X', data: payload });
    await emulator.idle();
    const [delivery] = emulator.deliveries({ eventId: emitted.eventId });
    expect(delivery!.attempts.map((a) => a.error)).toEqual(['timeout', 'timeout']);
    expect(delivery!.state).toBe('failed');
  });

  it('only the ACTIVE key encrypts: after a rotation events carry the new key id', async () => {
    const { emulator, account, client, receiver, keyId } = await setup();
    const next = await client.createKey({ accountId: account.accountId });
    receiver.secrets.set(next.key_id, next.shared_secret);
    expect(emulator.emit({ accountId: account.accountId, eventType: 'X', data: payload }).keyId).toBe(keyId);
    await client.activateKey({ keyId: next.key_id });
    expect(emulator.emit({ accountId: account.accountId, eventType: 'X', data: payload }).keyId).toBe(next.key_id);
    await emulator.idle();
    expect(receiver.events.map((e) => e.key_id)).toEqual([keyId, next.key_id]);
  });

  it('refuses to emit without an ACTIVE key or for an unknown account', async () => {
    const f = await startEmulatorWithClient();
    running.push(f.emulator);
    expect(() => f.emulator.emit({ accountId: f.account.accountId, eventType: 'X', data: payload })).toThrow(EmitError);
    expect(() => f.emulator.emit({ accountId: 'sb_nobody', eventType: 'X', data: payload })).toThrow(/not found/);
    await f.client.createKey({ accountId: f.account.accountId });
    expect(() => f.emulator.emit({ accountId: f.account.accountId, eventType: 'X', data: payload })).toThrow(/ACTIVE/);
  });

  it('control endpoints: emit and read the delivery log over HTTP with KSig1', async () => {
    const { emulator, account, receiver } = await setup();
    const headers = { ...ksig1Headers(credentialsOf(account)), 'content-type': 'application/json' };
    const emitted = await fetch(`${emulator.url}/_emulator/emit`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ account_id: account.accountId, event_type: 'WORKFLOW_COMPLETED', data: payload }),
    });
    expect(emitted.status).toBe(200);
    const { data } = (await emitted.json()) as { data: { event_id: string; deliveries: number } };
    expect(data.deliveries).toBe(1);
    await emulator.idle();
    expect(receiver.events.map((e) => e.id)).toEqual([data.event_id]);
    const log = await fetch(`${emulator.url}/_emulator/deliveries?event_id=${data.event_id}`, { headers });
    const body = (await log.json()) as { data: { deliveries: Array<{ state: string; attempts: unknown[] }> } };
    expect(body.data.deliveries).toMatchObject([{ state: 'delivered', attempts: [{ status: 200, retryCount: 0 }] }]);
    const unsigned = await fetch(`${emulator.url}/_emulator/emit`, { method: 'POST', body: '{}' });
    expect(unsigned.status).toBe(401);
  });

  it('seeds accounts from a JSON file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kw-seed-'));
    const seed = { account_id: 'sb_seeded', api_key: 'sb_seededkey', secret_key: Buffer.alloc(33, 9).toString('base64'), auth_token: 'tok_seed' };
    writeFileSync(join(dir, 'seed.json'), JSON.stringify({ accounts: [seed] }));
    const emulator = await startEmulator({ seedFile: join(dir, 'seed.json') });
    running.push(emulator);
    const client = createKompliantClient({ baseUrl: emulator.url, apiKey: seed.api_key, secretKey: seed.secret_key, authToken: seed.auth_token, env: {} });
    expect((await client.createKey({ accountId: 'sb_seeded' })).key_id).toMatch(/_01$/);
  });

  it('refuses bad options at construction', async () => {
    await expect(startEmulator({ timeScale: 0 })).rejects.toThrow(/timeScale/);
    await expect(startEmulator({ accounts: [{ accountId: 'sb_a', apiKey: 'x', secretKey: 'y', authToken: 'z' }] })).rejects.toThrow(/apiKey/);
    await expect(startEmulator({ colour: 'red' } as never)).rejects.toThrow(/unknown option/);
  });
});
