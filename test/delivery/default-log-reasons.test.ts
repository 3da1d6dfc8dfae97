// The default log line (no logger option) names the status the sender got, the real reason and what to do, for the likeliest first mistakes.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { envKeyStore, kompliantWebhook, memoryKeyStore, type IdempotencyStore, type KeyStore, type KompliantWebhookOptions } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

const payload = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u', user_type: 'USER' } };

let lines: { level: 'warn' | 'error'; text: string }[];
const servers: Server[] = [];
beforeEach(() => {
  lines = [];
  // The default logger writes through console.warn / console.error (stderr).
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void lines.push({ level: 'warn', text: args.map(String).join(' ') }));
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push({ level: 'error', text: args.map(String).join(' ') }));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Counts the key store's lookups, to show which lines come from a store that was never asked. */
function counted(store: KeyStore): KeyStore & { calls: number } {
  const wrapped = {
    calls: 0,
    getSecret: (keyId: string, context?: Parameters<KeyStore['getSecret']>[1]) => {
      wrapped.calls += 1;
      return store.getSecret(keyId, context);
    },
  };
  return wrapped;
}

const sealed = (keyId = KEY_ID) => createTestWebhook({ secret: SECRET, keyId, data: payload });
const post = (target: Parameters<typeof request>[0], body: object) => request(target).post(PATH).set('content-type', 'application/json').send(JSON.stringify(body));
const middleware = (options: Partial<KompliantWebhookOptions> = {}) =>
  kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), ...options } as KompliantWebhookOptions);

describe('default log: pass-through (no onEvent)', () => {
  it('nothing after the middleware: the sender gets 404, and the line says 404, "Application answered 404" and to check the route', async () => {
    const app = express();
    app.post(PATH, middleware()); // no onEvent and no route after it
    const sent = sealed();
    await post(app, sent).expect(404);
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.text).toBe(
      `kompliant-webhooks: failed 404 HANDLER_FAILED (key_id=${KEY_ID} account_id=${sent.account_id} id=${sent.id} event_type=${sent.event_type}): ` +
        'Application answered 404; no route after the middleware answered this request: check that the route is app.post (not app.get or app.use of another method) ' +
        'at the path the sender calls, that it answers 2xx, or give the middleware an onEvent handler; the event is not acknowledged, so the sender will retry it',
    );
  });

  it('a route after the middleware that answers 503: the line says 503 and that the route answered it', async () => {
    const app = express();
    app.post(PATH, middleware(), (_req, res) => void res.status(503).end());
    await post(app, sealed()).expect(503);
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]!.text).toMatch(/^kompliant-webhooks: failed 503 HANDLER_FAILED \(.*\): Application answered 503; the route after the middleware answered 503, not 2xx/);
  });

  it('plain node:http without onEvent (no next()): the line says "No onEvent handler and no next()" and to give onEvent', async () => {
    const handle = middleware();
    const server = createServer((req, res) => void handle(req, res));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sealed()),
    });
    expect(res.status).toBe(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text).toMatch(
      /^kompliant-webhooks: failed 500 HANDLER_FAILED \(.*\): No onEvent handler and no next\(\); plain node:http has no route after the middleware to hand the event to: give kompliantWebhook an onEvent handler; /,
    );
    expect(lines[0]!.text).not.toContain('Application answered');
  });
});

describe('default log: refusals and failures that are not what the code alone suggests', () => {
  it('an account outside `accounts`: the line says the account is not served and the store was not asked, not that the store lacks the key', async () => {
    const keyStore = counted(memoryKeyStore({ [KEY_ID]: SECRET }));
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore, accounts: ['lv_Mine'], onEvent() {} }));
    const sent = sealed();
    await post(app, sent).expect(401);
    expect(keyStore.calls).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('warn');
    expect(lines[0]!.text).toBe(
      `kompliant-webhooks: rejected 401 UNKNOWN_KEY (key_id=${KEY_ID} account_id=${sent.account_id} id=${sent.id} event_type=${sent.event_type}): ` +
        "account not served; the envelope's account_id is not in the receiver's `accounts` option, so the key store was not asked; add the account to `accounts` if this receiver serves it",
    );
    expect(lines[0]!.text).not.toContain('has no secret');
  });

  it('an idempotency store that fails: the line says so and what to check, not a handler failure', async () => {
    const down = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    const idempotency: IdempotencyStore = { claim: down, complete: down, release: down };
    const onEvent = vi.fn();
    const app = express();
    app.post(PATH, middleware({ idempotency, onEvent }));
    await post(app, sealed()).expect(503);
    expect(onEvent).not.toHaveBeenCalled();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text).not.toContain('handler threw');
    expect(lines[0]!.text).toMatch(
      /^kompliant-webhooks: rejected 503 IDEMPOTENCY_STORE_UNAVAILABLE \(.*\): the idempotency store failed or missed idempotencyTimeoutMs before the handler ran \(check the store and its connection\); the handler did not run and the sender will retry: store said: connect ECONNREFUSED 127\.0\.0\.1:6379/,
    );
  });

  it('an unknown key with envKeyStore: the line names the variables the store read for that key id and account', async () => {
    const env = { KOMPLIANT_WEBHOOK_SECRET_20251121_01: SECRET };
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: envKeyStore({ env }), onEvent() {} }));
    const sent = sealed('whk_20251121_02');
    await post(app, sent).expect(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text).toBe(
      `kompliant-webhooks: rejected 401 UNKNOWN_KEY (key_id=whk_20251121_02 account_id=${sent.account_id} id=${sent.id} event_type=${sent.event_type}): ` +
        'the key store has no secret for this key_id of this account (envKeyStore read KOMPLIANT_WEBHOOK_SECRET_sb_TestAccount_20251121_02, ' +
        'KOMPLIANT_WEBHOOK_KEYS["sb_TestAccount"]["whk_20251121_02"], KOMPLIANT_WEBHOOK_SECRET_20251121_02, KOMPLIANT_WEBHOOK_KEYS["whk_20251121_02"])',
    );
    expect(lines[0]!.text).not.toContain(SECRET);
  });

  it('an unknown key with a store without describe(): the hint alone; a describe() that throws or says nothing changes nothing', async () => {
    const silent = memoryKeyStore({ [KEY_ID]: SECRET });
    const throwing: KeyStore = { getSecret: (keyId, context) => silent.getSecret(keyId, context), describe: () => { throw new Error('no'); } };
    const empty: KeyStore = { getSecret: (keyId, context) => silent.getSecret(keyId, context), describe: () => '' };
    for (const keyStore of [silent, throwing, empty]) {
      const app = express();
      app.post(PATH, kompliantWebhook({ keyStore, onEvent() {} }));
      await post(app, sealed('whk_20251121_02')).expect(401);
    }
    expect(lines.map((line) => line.text.replace(/ \(key_id=.*?\)/, ''))).toEqual(
      Array(3).fill('kompliant-webhooks: rejected 401 UNKNOWN_KEY: the key store has no secret for this key_id of this account'),
    );
  });

  it("a long describe() is cut to 500 characters in the line", async () => {
    const store = memoryKeyStore({ [KEY_ID]: SECRET });
    const keyStore: KeyStore = { getSecret: (keyId, context) => store.getSecret(keyId, context), describe: () => `${'a'.repeat(500)}${'b'.repeat(500)}` };
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore, onEvent() {} }));
    await post(app, sealed('whk_20251121_02')).expect(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.text.endsWith(`this account (${'a'.repeat(500)})`)).toBe(true);
  });
});
