import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createKompliantClient,
  DAILY_LIMIT_EXCEEDED,
  isDailyLimitError,
  isKompliantApiError,
  type KompliantApiError,
} from '../../src/client.js';
import { MAX_CONFIGS_PER_ACCOUNT, MAX_KEYS_PER_DAY, type KompliantEmulator } from '../../src/emulator.js';
import { credentialsOf, startEmulatorWithClient } from '../support/emulator.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

async function fixture(...args: Parameters<typeof startEmulatorWithClient>) {
  const f = await startEmulatorWithClient(...args);
  running.push(f.emulator);
  return f;
}

async function apiError(promise: Promise<unknown>): Promise<KompliantApiError> {
  try {
    await promise;
  } catch (error) {
    if (isKompliantApiError(error)) return error;
    throw error;
  }
  throw new Error('expected a KompliantApiError');
}

const KEY_ID = /^whk_\d{8}_\d{2}$/;
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('client against the emulator: key lifecycle', () => {
  it('creates, activates and gets keys with the documented shapes; the secret only at creation', async () => {
    const { client, account } = await fixture({ now: () => new Date('2025-11-21T23:59:59.000Z') });
    const created = await client.createKey({ accountId: account.accountId });
    expect(created).toEqual({ key_id: 'whk_20251121_01', shared_secret: expect.any(String), status: 'INACTIVE', created_at: '2025-11-21T23:59:59.000Z' });
    expect(Buffer.from(created.shared_secret, 'base64')).toHaveLength(32);
    const info = await client.getKey({ keyId: created.key_id });
    expect(info).toEqual({ key_id: created.key_id, status: 'INACTIVE', created_at: created.created_at });
    const activated = await client.activateKey({ keyId: created.key_id });
    expect(activated).toEqual({ key_id: created.key_id, status: 'ACTIVE', activated_at: expect.stringMatching(ISO_MS) });
    const after = await client.getKey({ keyId: created.key_id });
    expect(after.status).toBe('ACTIVE');
    expect(JSON.stringify(after)).not.toContain(created.shared_secret);
  });

  it('numbers key ids per account per UTC day, restarting at 01 the next day', async () => {
    let now = new Date('2025-11-21T23:59:59.999Z');
    const { client, account } = await fixture({ now: () => now });
    expect((await client.createKey({ accountId: account.accountId })).key_id).toBe('whk_20251121_01');
    expect((await client.createKey({ accountId: account.accountId })).key_id).toBe('whk_20251121_02');
    now = new Date('2025-11-22T00:00:00.000Z');
    expect((await client.createKey({ accountId: account.accountId })).key_id).toBe('whk_20251122_01');
  });

  it('counts per account: two accounts both get _01', async () => {
    const { emulator, client } = await fixture({ accounts: twoAccounts() });
    const [a, b] = emulator.accounts;
    const ka = await client.createKey({ accountId: a!.accountId });
    const kb = await client.createKey({ accountId: b!.accountId });
    expect(ka.key_id).toMatch(/_01$/);
    expect(kb.key_id).toMatch(/_01$/);
  });

  it('activation deletes the previous ACTIVE key; a DELETED key can never be activated again', async () => {
    const { client, account, emulator } = await fixture();
    const k1 = await client.createKey({ accountId: account.accountId });
    const k2 = await client.createKey({ accountId: account.accountId });
    await client.activateKey({ keyId: k1.key_id });
    await client.activateKey({ keyId: k2.key_id });
    const old = await client.getKey({ keyId: k1.key_id });
    expect(old.status).toBe('DELETED');
    expect(old.deleted_at).toMatch(ISO_MS);
    expect(emulator.activeKeyId(account.accountId)).toBe(k2.key_id);

    const deleted = await apiError(client.activateKey({ keyId: k1.key_id }));
    expect(deleted).toMatchObject({ code: 'SYSTEM_RULE_VIOLATION', subCode: 'KEY_DELETED', httpStatus: 400 });
    const again = await apiError(client.activateKey({ keyId: k2.key_id }));
    expect(again).toMatchObject({ code: 'SYSTEM_RULE_VIOLATION', subCode: 'KEY_ALREADY_ACTIVE' });
  });

  it('concurrent activations of different keys: all succeed, exactly one ACTIVE, the rest DELETED', async () => {
    const { client, account, emulator } = await fixture();
    const keys = [];
    for (let i = 0; i < 12; i++) keys.push(await client.createKey({ accountId: account.accountId }));
    const results = await Promise.allSettled(keys.map((k) => client.activateKey({ keyId: k.key_id })));
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    const statuses = emulator.keys(account.accountId).map((k) => k.status);
    expect(statuses.filter((s) => s === 'ACTIVE')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'DELETED')).toHaveLength(11);
  });

  it('concurrent activations of the same key: exactly one succeeds, the others get KEY_ALREADY_ACTIVE', async () => {
    const { client, account, emulator } = await fixture();
    const key = await client.createKey({ accountId: account.accountId });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => client.activateKey({ keyId: key.key_id })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect((r.reason as KompliantApiError).subCode).toBe('KEY_ALREADY_ACTIVE');
    }
    expect(emulator.activeKeyId(account.accountId)).toBe(key.key_id);
  });

  it('never has zero or two ACTIVE keys while activations race with key reads', async () => {
    const { client, account, emulator } = await fixture();
    const first = await client.createKey({ accountId: account.accountId });
    await client.activateKey({ keyId: first.key_id });
    const keys = [];
    for (let i = 0; i < 8; i++) keys.push(await client.createKey({ accountId: account.accountId }));
    let samples = 0;
    let bad = 0;
    const sampler = setInterval(() => {
      samples++;
      const active = emulator.keys(account.accountId).filter((k) => k.status === 'ACTIVE').length;
      if (active !== 1) bad++;
    }, 0);
    await Promise.all(keys.map((k) => client.activateKey({ keyId: k.key_id })));
    clearInterval(sampler);
    expect(samples).toBeGreaterThan(0);
    expect(bad).toBe(0);
  });
});

describe('client against the emulator: every documented error', () => {
  it('webhook.key.create: BAD_REQUEST, ENTITY_NOT_FOUND, daily limit after 99 keys', async () => {
    const { client, account } = await fixture();
    expect(await apiError(client.createKey({ accountId: 'not an id!' }))).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400, method: 'webhook.key.create' });
    expect(await apiError(client.createKey({ accountId: 'sb_nobody' }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
    for (let i = 1; i <= MAX_KEYS_PER_DAY; i++) {
      const key = await client.createKey({ accountId: account.accountId });
      if (i === MAX_KEYS_PER_DAY) expect(key.key_id).toMatch(/_99$/);
    }
    const limit = await apiError(client.createKey({ accountId: account.accountId }));
    expect(limit).toMatchObject({ code: 'SYSTEM_RULE_VIOLATION', entityType: 'Webhook Key', subCode: DAILY_LIMIT_EXCEEDED, rawSubCode: 'DAILY_LIMIT_EXCEEDED' });
    expect(isDailyLimitError(limit)).toBe(true);
  });

  it('recognises the guide spelling DAILY_KEY_LIMIT as the same constant', async () => {
    const { client, account } = await fixture({ dailyLimitSubCode: 'DAILY_KEY_LIMIT' });
    for (let i = 0; i < MAX_KEYS_PER_DAY; i++) await client.createKey({ accountId: account.accountId });
    const limit = await apiError(client.createKey({ accountId: account.accountId }));
    expect(limit).toMatchObject({ subCode: DAILY_LIMIT_EXCEEDED, rawSubCode: 'DAILY_KEY_LIMIT' });
    expect(isDailyLimitError(limit)).toBe(true);
  });

  it('webhook.key.activate and webhook.key.get: BAD_REQUEST and ENTITY_NOT_FOUND', async () => {
    const { client } = await fixture();
    expect(await apiError(client.activateKey({ keyId: '../etc' }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await apiError(client.activateKey({ keyId: 'whk_20200101_01' }))).toMatchObject({ code: 'ENTITY_NOT_FOUND', entityType: 'Webhook Key' });
    expect(await apiError(client.getKey({ keyId: 'whk_1' }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await apiError(client.getKey({ keyId: 'whk_20200101_01' }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
  });

  it('a key of another account is not found', async () => {
    const { emulator } = await fixture({ accounts: twoAccounts(false) });
    const [a, b] = emulator.accounts;
    const clientA = createKompliantClient({ baseUrl: emulator.url, ...credentialsOf(a!), env: {} });
    const clientB = createKompliantClient({ baseUrl: emulator.url, ...credentialsOf(b!), env: {} });
    const key = await clientA.createKey({ accountId: a!.accountId });
    expect(await apiError(clientB.getKey({ keyId: key.key_id }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
    expect(await apiError(clientB.createKey({ accountId: a!.accountId }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
  });

  it('webhook.config.create: https only, duplicates, 20 per account, unknown account', async () => {
    const { client, account } = await fixture();
    const id = account.accountId;
    expect(await client.createConfig({ accountId: id, url: 'https://example.com/hooks/0' })).toEqual({ config_id: expect.stringMatching(/^whc_/) });
    expect(await apiError(client.createConfig({ accountId: id, url: 'http://example.com/hooks' }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await apiError(client.createConfig({ accountId: id, url: 'http://localhost:3000/hooks' }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await apiError(client.createConfig({ accountId: id, url: 'not a url' }))).toMatchObject({ code: 'BAD_REQUEST' });
    expect(await apiError(client.createConfig({ accountId: 'sb_nobody', url: 'https://example.com/x' }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
    expect(await apiError(client.createConfig({ accountId: id, url: 'https://example.com/hooks/0' }))).toMatchObject({
      code: 'SYSTEM_RULE_VIOLATION',
      entityType: 'Webhook Config',
      subCode: 'URL_ALREADY_EXISTS',
    });
    for (let i = 1; i < MAX_CONFIGS_PER_ACCOUNT; i++) await client.createConfig({ accountId: id, url: `https://example.com/hooks/${i}` });
    expect(await apiError(client.createConfig({ accountId: id, url: 'https://example.com/hooks/20' }))).toMatchObject({
      code: 'SYSTEM_RULE_VIOLATION',
      subCode: 'MAX_WEBHOOK_URL_LIMIT',
    });
  });

  it('allowHttpLocalhost admits http://localhost and loopback addresses only', async () => {
    const { client, account } = await fixture({ allowHttpLocalhost: true });
    await client.createConfig({ accountId: account.accountId, url: 'http://localhost:3000/hooks' });
    await client.createConfig({ accountId: account.accountId, url: 'http://127.0.0.1:3000/hooks' });
    expect(await apiError(client.createConfig({ accountId: account.accountId, url: 'http://example.com/hooks' }))).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('answers the exact error envelope', async () => {
    const { emulator, client, account } = await fixture();
    void client;
    const { ksig1Headers } = await import('../../src/key-api/ksig.js');
    const response = await fetch(`${emulator.url}/webhook.key.get`, {
      method: 'POST',
      headers: { ...ksig1Headers(credentialsOf(account)), 'content-type': 'application/json' },
      body: JSON.stringify({ key_id: 'whk_20200101_01' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      meta: { status: 'ERROR', version: '2025-03-24' },
      errors: [{ code: 'ENTITY_NOT_FOUND', message: expect.any(String), entity_type: 'Webhook Key' }],
    });
    const ok = await fetch(`${emulator.url}/webhook.key.create`, {
      method: 'POST',
      headers: { ...ksig1Headers(credentialsOf(account)), 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: account.accountId }),
    });
    expect(await ok.json()).toEqual({
      meta: { status: 'SUCCESS', trace_id: expect.stringMatching(/^trc_/), version: '2025-03-24' },
      data: { key_id: expect.stringMatching(KEY_ID), shared_secret: expect.any(String), status: 'INACTIVE', created_at: expect.stringMatching(ISO_MS) },
    });
  });
});

describe('client: authentication, retries, timeouts', () => {
  it.each([
    ['a wrong auth token', { authToken: 'tok_wrong' }],
    ['a wrong secret key (wrong signature)', { secretKey: Buffer.alloc(33, 7).toString('base64') }],
    ['an unknown API key', { apiKey: 'sb_unknown_key' }],
  ])('the emulator refuses %s with 401 UNAUTHORIZED and the secret key is in no error', async (_name, override) => {
    const { emulator, account } = await fixture();
    const client = createKompliantClient({ baseUrl: emulator.url, ...credentialsOf(account), ...override, env: {} });
    const error = await apiError(client.createKey({ accountId: account.accountId }));
    expect(error).toMatchObject({ code: 'UNAUTHORIZED', httpStatus: 401 });
    const everything = JSON.stringify({ ...error, message: error.message, stack: error.stack });
    expect(everything).not.toContain(account.secretKey);
    expect(emulator.keys(account.accountId)).toHaveLength(0);
  });

  it('refuses a request without the KSig1 headers', async () => {
    const { emulator, account } = await fixture();
    const response = await fetch(`${emulator.url}/webhook.key.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_id: account.accountId }),
    });
    expect(response.status).toBe(401);
    expect(emulator.keys(account.accountId)).toHaveLength(0);
  });

  it('reads credentials from KOMPLIANT_* env vars; a missing one is a TypeError naming it, not its value', async () => {
    const { emulator, account } = await fixture();
    const env = { KOMPLIANT_API_KEY: account.apiKey, KOMPLIANT_SECRET_KEY: account.secretKey, KOMPLIANT_AUTH_TOKEN: account.authToken };
    const client = createKompliantClient({ baseUrl: emulator.url, env });
    expect((await client.createKey({ accountId: account.accountId })).status).toBe('INACTIVE');
    expect(() => createKompliantClient({ env: { ...env, KOMPLIANT_AUTH_TOKEN: undefined } })).toThrow(/authToken/);
    const short = Buffer.alloc(32, 1).toString('base64');
    expect(() => createKompliantClient({ env: { ...env, KOMPLIANT_SECRET_KEY: short } })).toThrow(/secretKey/);
    try {
      createKompliantClient({ env: { ...env, KOMPLIANT_SECRET_KEY: short } });
    } catch (error) {
      expect(String(error)).not.toContain(short);
    }
  });

  it('retries 5xx with backoff and succeeds; never retries a 400', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const { emulator, account, client } = await fixture({}, { fetch: counting, retries: 2 });
    emulator.injectFault({ method: 'webhook.key.create', status: 503, times: 2 });
    expect((await client.createKey({ accountId: account.accountId })).key_id).toMatch(/_01$/);
    expect(calls).toBe(3);
    calls = 0;
    await apiError(client.createKey({ accountId: 'sb_nobody' }));
    expect(calls).toBe(1);
    calls = 0;
    emulator.injectFault({ method: 'webhook.key.get', status: 500, times: 5 });
    const error = await apiError(client.getKey({ keyId: 'whk_20200101_01' }));
    expect(error).toMatchObject({ httpStatus: 500 });
    expect(calls).toBe(3);
  });

  it('retries network errors, then reports NETWORK_ERROR', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    let calls = 0;
    const client = createKompliantClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: 'sb_x',
      secretKey: Buffer.alloc(33).toString('base64'),
      authToken: 't',
      retries: 3,
      retryDelayMs: 1,
      env: {},
      fetch: (input, init) => {
        calls++;
        return fetch(input, init);
      },
    });
    expect(await apiError(client.getKey({ keyId: 'whk_20200101_01' }))).toMatchObject({ code: 'NETWORK_ERROR', httpStatus: undefined });
    expect(calls).toBe(4);
  });

  it('times out a call that gets no answer', async () => {
    const hanging: Server = createServer(() => undefined);
    await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
    running.push({ close: () => new Promise<void>((r) => { hanging.closeAllConnections(); hanging.close(() => r()); }) });
    const client = createKompliantClient({
      baseUrl: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
      apiKey: 'sb_x',
      secretKey: Buffer.alloc(33).toString('base64'),
      authToken: 't',
      timeoutMs: 50,
      retries: 0,
      env: {},
    });
    expect(await apiError(client.getKey({ keyId: 'whk_20200101_01' }))).toMatchObject({ code: 'TIMEOUT' });
  });

  it('rejects (never throws synchronously) on a bad argument', async () => {
    const client = createKompliantClient({ apiKey: 'sb_x', secretKey: Buffer.alloc(33).toString('base64'), authToken: 't', env: {} });
    await expect(client.createKey({ accountId: '' })).rejects.toThrow(/accountId/);
    await expect(client.getKey({} as never)).rejects.toThrow(/keyId/);
  });

  it('refuses bad options at construction', () => {
    const ok = { apiKey: 'sb_x', secretKey: Buffer.alloc(33).toString('base64'), authToken: 't', env: {} };
    expect(() => createKompliantClient({ ...ok, baseUrl: 'nope' })).toThrow(/baseUrl/);
    expect(() => createKompliantClient({ ...ok, retries: -1 })).toThrow(/retries/);
    expect(() => createKompliantClient({ ...ok, apiKey: 'pk_x' })).toThrow(/apiKey/);
    expect(() => createKompliantClient({ ...ok, timeout: 5 } as never)).toThrow(/unknown option/);
  });
});

const secret = (n: number): string => Buffer.alloc(33, n).toString('base64');

function twoAccounts(sharedCredentials = true): NonNullable<Parameters<typeof startEmulatorWithClient>[0]>['accounts'] {
  const a = { accountId: 'sb_accountA', apiKey: 'sb_keyA', secretKey: secret(1), authToken: 'tokA' };
  const b = sharedCredentials
    ? { ...a, accountId: 'sb_accountB' }
    : { accountId: 'sb_accountB', apiKey: 'sb_keyB', secretKey: secret(2), authToken: 'tokB' };
  return [a, b];
}

export type { KompliantEmulator };
