// Several Kompliant accounts on one receiver: key ids shared across accounts, the accounts allow-list, the emulator delivering for two accounts.
import express from 'express';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createKompliantClient } from '../../src/client.js';
import { startEmulator, type EmulatorAccount } from '../../src/emulator.js';
import { kompliantWebhook, memoryKeyStore, type KeyStore, type KompliantEvent } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { expressDriver, fastifyDriver, fetchDriver, lambdaDriver } from '../support/adapter-drivers.js';
import type { AdapterDriver, TableAppOptions } from '../support/adapter-table.js';
import { restApiEvent } from '../support/lambda-events.js';
import { loadEnvelopeVectors } from '../support/vectors.js';

const vectors = loadEnvelopeVectors();
const OTHER = 'sb_OtherAccountSharingKeyIds';
const JSON_HEADERS = { 'content-type': 'application/json' };

/** The same key ids as the vectors, with other secrets: the second account's keys. */
const otherKeys = Object.fromEntries(Object.keys(vectors.keys).map((keyId) => [keyId, generateSharedSecret()]));

/** A store for two accounts that records each lookup's (account, key id). */
function twoAccountStore(owner: string, calls: string[]): KeyStore {
  const store = memoryKeyStore({ [owner]: vectors.keys, [OTHER]: otherKeys });
  return {
    getSecret(keyId, context) {
      calls.push(`${context?.accountId} ${keyId}`);
      return store.getSecret(keyId, context);
    },
  };
}

const drivers: AdapterDriver[] = [expressDriver, fetchDriver, lambdaDriver('Lambda (REST API event)', restApiEvent), fastifyDriver];

function accountOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { account_id?: unknown };
    return typeof parsed.account_id === 'string' ? parsed.account_id : undefined;
  } catch {
    return undefined;
  }
}

describe.each(drivers.map((d) => [d.name, d] as const))('two accounts sharing key ids: the shared vectors through %s', (_name, driver) => {
  const cases = vectors.cases.filter((c) => accountOf(c.body) !== undefined);

  it.each(cases.map((c) => [c.name, c] as const))('%s: answered as with one account, the store asked only for the envelope\'s account', async (_case, vector) => {
    const owner = accountOf(vector.body) as string;
    const calls: string[] = [];
    const events: KompliantEvent[] = [];
    const options: TableAppOptions & { accounts: string[] } = {
      keyStore: twoAccountStore(owner, calls),
      accounts: [owner, OTHER],
      onEvent: (event) => void events.push(event),
      onError: () => undefined,
    };
    const send = await driver.create(options);
    const res = await send({ method: 'POST', headers: JSON_HEADERS, body: vector.body });
    expect(res.status).toBe(vector.expect.status);
    if (vector.expect.status === 200) expect(events[0]).toStrictEqual(vector.expect.event);
    else expect(res.body).toMatchObject({ error: { code: vector.expect.code } });
    for (const call of calls) expect(call.startsWith(`${owner} `)).toBe(true);
  });

  it('an envelope of an account not in `accounts` is 401 UNKNOWN_KEY "account not served", with no store call', async () => {
    const valid = cases.find((c) => c.expect.status === 200)!;
    const calls: string[] = [];
    const send = await driver.create({
      keyStore: twoAccountStore('lv_SomeoneElse', calls),
      accounts: ['lv_SomeoneElse', OTHER],
      onEvent: () => undefined,
      onError: () => undefined,
    } as TableAppOptions);
    const res = await send({ method: 'POST', headers: JSON_HEADERS, body: valid.body });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { code: 'UNKNOWN_KEY', message: 'account not served' } });
    expect(calls).toEqual([]);
  });

  it('the other account\'s envelope with the same key id decrypts with its own secret, the first account\'s never tried', async () => {
    const valid = cases.find((c) => c.expect.status === 200)!;
    const keyId = (JSON.parse(valid.body) as { key_id: string }).key_id;
    const calls: string[] = [];
    const events: KompliantEvent[] = [];
    const owner = accountOf(valid.body) as string;
    const send = await driver.create({ keyStore: twoAccountStore(owner, calls), onEvent: (e) => void events.push(e), onError: () => undefined });
    const theirs = createTestWebhook({ secret: otherKeys[keyId]!, keyId, account_id: OTHER });
    const ours = JSON.parse(valid.body) as Record<string, unknown>;
    expect((await send({ method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(theirs) })).status).toBe(200);
    expect((await send({ method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(ours) })).status).toBe(200);
    expect(events.map((e) => [e.account_id, e.key_id])).toEqual([
      [OTHER, keyId],
      [owner, keyId],
    ]);
    // A mismatched pair: the other account's secret under the first account's id is 401, and the
    // store is asked for that (account, key id) pair only (the cache already holds it: no call).
    const mismatched = createTestWebhook({ secret: otherKeys[keyId]!, keyId, account_id: owner });
    const before = calls.length;
    const res = await send({ method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(mismatched) });
    expect(res.status).toBe(401);
    expect(calls.slice(before).every((c) => c === `${owner} ${keyId}`)).toBe(true);
    expect(calls.filter((c) => c === `${OTHER} ${keyId}`)).toHaveLength(1);
  });
});

function account(accountId: string): EmulatorAccount {
  return {
    accountId,
    apiKey: `sb_${randomBytes(8).toString('hex')}`,
    secretKey: randomBytes(33).toString('base64'),
    authToken: randomBytes(16).toString('hex'),
  };
}

describe('the emulator delivers two accounts\' events to one kompliantWebhook', () => {
  const closing: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((close) => close()));
  });

  it('both accounts\' first keys are whk_<day>_01, and both decrypt through one receiver', async () => {
    const live = account('lv_LiveAccount0000000001');
    const sandbox = account('sb_SandboxAccount000001');
    const emulator = await startEmulator({ accounts: [live, sandbox], allowHttpLocalhost: true, timeScale: 0.001, attemptTimeoutMs: 5_000 });
    closing.push(() => emulator.close());
    const clientOf = (a: EmulatorAccount) =>
      createKompliantClient({ baseUrl: emulator.url, apiKey: a.apiKey, secretKey: a.secretKey, authToken: a.authToken, retryDelayMs: 1, env: {} });

    const secrets: Record<string, Record<string, string>> = {};
    const keyIds: string[] = [];
    for (const a of [live, sandbox]) {
      const created = await clientOf(a).createKey({ accountId: a.accountId });
      await clientOf(a).activateKey({ keyId: created.key_id });
      secrets[a.accountId] = { [created.key_id]: created.shared_secret };
      keyIds.push(created.key_id);
    }
    expect(keyIds[0]).toBe(keyIds[1]);
    expect(keyIds[0]).toMatch(/_01$/);

    const events: KompliantEvent[] = [];
    const app = express();
    app.post(
      '/webhooks/kompliant',
      kompliantWebhook({
        keyStore: memoryKeyStore(secrets),
        accounts: [live.accountId, sandbox.accountId],
        onEvent: (event) => void events.push(event),
      }),
    );
    const server: Server = await new Promise((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    closing.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/kompliant`;
    for (const a of [live, sandbox]) await clientOf(a).createConfig({ accountId: a.accountId, url });

    const data = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u_1', user_type: 'USER' } };
    const emitted = [live, sandbox].map((a) => emulator.emit({ accountId: a.accountId, eventType: 'WORKFLOW_COMPLETED', data }));
    await emulator.idle();
    expect(emulator.deliveries().map((d) => [d.accountId, d.state, d.attempts.map((t) => t.status)])).toEqual([
      [live.accountId, 'delivered', [200]],
      [sandbox.accountId, 'delivered', [200]],
    ]);
    expect(events.map((e) => [e.id, e.account_id, e.key_id]).toSorted()).toEqual(
      [
        [emitted[0]!.eventId, live.accountId, keyIds[0]],
        [emitted[1]!.eventId, sandbox.accountId, keyIds[0]],
      ].toSorted(),
    );
  });
});
