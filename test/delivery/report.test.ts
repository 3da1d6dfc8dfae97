import { gzipSync } from 'node:zlib';
import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  createWebhookStats,
  kompliantWebhook,
  memoryKeyStore,
  type KompliantWebhookOptions,
  type KeyStore,
  type WebhookLogger,
} from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

const MARKER = 'PLAINTEXT-MARKER-7f3a';
const payload = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u', user_type: 'USER' }, note: MARKER };

/** A logger that keeps every line, serialised as a log shipper would. */
function capturingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: object, message: string) => void lines.push({ level, fields: { ...fields }, message });
  const logger: WebhookLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('logger: one structured line per delivery, nothing secret across every path', () => {
  const printed: string[] = [];
  beforeEach(() => {
    printed.length = 0;
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    }
    const write = (chunk: unknown) => (printed.push(String(chunk)), true);
    vi.spyOn(process.stdout, 'write').mockImplementation(write as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(write as never);
  });
  afterEach(() => vi.restoreAllMocks());

  it('covers every outcome and never logs the secret, the ciphertext or the plaintext', async () => {
    const { logger, lines } = capturingLogger();
    const wrongSecret = generateSharedSecret();
    const secrets = [SECRET, Buffer.from(SECRET, 'base64').toString('hex'), wrongSecret];
    let storeMode: 'ok' | 'throw' | 'bad' = 'ok';
    const keyStore = {
      getSecret(keyId: string) {
        if (storeMode === 'throw') return Promise.reject(new Error(`vault refused, secret was ${SECRET}`));
        if (storeMode === 'bad') return Promise.resolve('c2hvcnQ=');
        return memoryKeyStore({ [KEY_ID]: SECRET }).getSecret(keyId);
      },
    };
    let handlerMode: 'ok' | 'throw' | 'slow' = 'ok';
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const options: KompliantWebhookOptions = {
      keyStore,
      cache: false, // every request reaches the store, so each store failure path is logged
      logger,
      handlerTimeoutMs: 30,
      allowedIps: ['127.0.0.1', '::1'],
      maxBodyBytes: 16 * 1024,
      async onEvent(event) {
        if (handlerMode === 'throw') throw new Error(`db down (event ${event.id})`);
        if (handlerMode === 'slow') await gate; // held open until the test has seen 503 and 409
      },
    };
    const app = express();
    app.use(PATH, kompliantWebhook(options));
    const forbidden = express();
    forbidden.use(PATH, kompliantWebhook({ ...options, allowedIps: ['203.0.113.1'] }));
    const make = (extra: object = {}) => createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload, ...extra });
    const ciphertexts: string[] = [];
    const post = (body: unknown, target = app) => {
      if (typeof body === 'object' && body !== null && 'data' in body) ciphertexts.push(String((body as { data: unknown }).data));
      return request(target).post(PATH).set('content-type', 'application/json').send(typeof body === 'string' ? body : JSON.stringify(body));
    };

    const seen = new Map<number, number>();
    const expectStatus = async (status: number, res: Promise<{ status: number }>) => {
      expect((await res).status).toBe(status);
      seen.set(status, (seen.get(status) ?? 0) + 1);
    };
    const handled = make();
    await expectStatus(200, post(handled));
    await expectStatus(200, post(handled)); // duplicate
    await expectStatus(405, request(app).get(PATH) as never);
    await expectStatus(415, request(app).post(PATH).set('content-type', 'text/plain').send('x'));
    await expectStatus(413, post(JSON.stringify({ ...make(), pad: 'x'.repeat(20_000) })));
    await expectStatus(413, request(app).post(PATH).set('content-type', 'application/json').set('content-encoding', 'gzip').serialize((d: unknown) => d as string).send(gzipSync(Buffer.alloc(1 << 20, 32))));
    await expectStatus(400, post('[1,2'));
    await expectStatus(400, post({ ...make(), key_id: '../etc/passwd' }));
    await expectStatus(403, post(make(), forbidden));
    await expectStatus(401, post({ ...make(), key_id: 'whk_20000101_01' }));
    await expectStatus(401, post({ ...make(), account_id: 'lv_tampered' }));
    await expectStatus(401, post(createTestWebhook({ secret: wrongSecret, keyId: KEY_ID, data: payload })));
    await expectStatus(400, post(createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: `${MARKER} not an object` })));
    storeMode = 'throw';
    await expectStatus(503, post(make()));
    storeMode = 'bad';
    await expectStatus(500, post(make()));
    storeMode = 'ok';
    handlerMode = 'throw';
    await expectStatus(500, post(make()));
    handlerMode = 'slow';
    const slow = make();
    await expectStatus(503, post(slow));
    await expectStatus(409, post(slow));
    openGate();
    const logged = lines.length;
    await vi.waitFor(async () => expect((await post(slow)).body).toEqual({ received: true, duplicate: true }));
    lines.length = logged; // drop the lines of the wait above

    expect(new Set(seen.keys())).toEqual(new Set([200, 400, 401, 403, 405, 409, 413, 415, 500, 503]));
    expect(lines).toHaveLength(18); // one line per request
    const everything = JSON.stringify(lines) + printed.join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
    for (const data of ciphertexts) expect(everything).not.toContain(data);
    expect(everything).not.toContain(MARKER);
    expect(everything).not.toContain('subject_record_id');
    expect(printed).toEqual([]); // the library prints nothing on its own

    const fieldNames = new Set(lines.flatMap((l) => Object.keys(l.fields)));
    expect(fieldNames).toEqual(new Set(['account_id', 'code', 'duration', 'event_type', 'handler_error', 'id', 'key_id', 'outcome', 'reason', 'retry_count']));
    // The handler's own error is the one thing from user code in a line: its message and stack.
    expect(lines.find((l) => l.fields.code === 'HANDLER_FAILED' && l.fields.handler_error !== undefined)?.fields.handler_error).toMatchObject({
      message: expect.stringContaining('db down'),
      stack: expect.stringContaining('db down'),
    });
    const outcomes = new Set(lines.map((l) => l.fields.outcome));
    expect(outcomes).toEqual(new Set(['duplicate', 'failed', 'handled', 'rejected', 'timeout']));
    expect(lines.find((l) => l.fields.outcome === 'handled')).toMatchObject({ level: 'info', fields: { id: handled.id, key_id: KEY_ID, retry_count: 0 } });
    expect(lines.find((l) => l.fields.code === 'KEY_STORE_UNAVAILABLE')?.level).toBe('error');
    expect(lines.find((l) => l.fields.code === 'DECRYPTION_FAILED')?.level).toBe('warn');
  });

  it('a throwing logger does not change the answer', async () => {
    const boom = () => {
      throw new Error('logger down');
    };
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), logger: { debug: boom, info: boom, warn: boom, error: boom }, onEvent() {} }));
    await request(app).post(PATH).send(createTestWebhook({ secret: SECRET, keyId: KEY_ID })).expect(200);
    await request(app).post(PATH).send({}).expect(400);
  });

  it('accepts console and refuses a logger without the four methods', () => {
    expect(() => kompliantWebhook({ keyStore: memoryKeyStore({}), logger: console })).not.toThrow();
    expect(() => kompliantWebhook({ keyStore: memoryKeyStore({}), logger: { info() {} } as never })).toThrow(/logger/);
  });
});

describe('stats', () => {
  // A store that leaves the process, as far as the receiver knows: not `inProcess`, so cached by default.
  const remoteStore = (): KeyStore => {
    const held = memoryKeyStore({ [KEY_ID]: SECRET });
    return { getSecret: (keyId, context) => held.getSecret(keyId, context) };
  };
  it.each([
    ['with the default cache: one real store call per key id', remoteStore, undefined, 2],
    ['without a cache: one store call per authenticated-shape request', remoteStore, false, 4],
    ['an in-process store is asked directly, with no cache in front', () => memoryKeyStore({ [KEY_ID]: SECRET }), undefined, 4],
    ['cache settings cache an in-process store too', () => memoryKeyStore({ [KEY_ID]: SECRET }), { ttlMs: 60_000 }, 2],
  ] as const)('counts received, handled, duplicate, rejections by code and key-store lookups (%s)', async (_name, keyStore, cache, lookups) => {
    const stats = createWebhookStats();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: keyStore(), cache, stats, onEvent() {} }));
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await request(app).post(PATH).send(sent).expect(200);
    await request(app).post(PATH).send(sent).expect(200);
    await request(app).post(PATH).send({ ...sent, key_id: 'whk_20000101_01' }).expect(401);
    await request(app).post(PATH).send({ ...sent, event_type: 'X' }).expect(401);
    await request(app).post(PATH).send({}).expect(400);
    expect(stats.snapshot()).toEqual({
      received: 5,
      handled: 1,
      duplicate: 1,
      rejected: { UNKNOWN_KEY: 1, DECRYPTION_FAILED: 1, INVALID_ENVELOPE: 1 },
      keyStoreLookups: lookups,
      keyStoreLookupsByAccount: { [sent.account_id]: lookups },
      observerErrors: 0,
      wireFormatDetected: 0,
    });
  });

  it('the receiver counts through handle()', async () => {
    const stats = createWebhookStats();
    const receiver = createWebhookReceiver({ keyStore: remoteStore(), stats });
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await receiver.handle(sent, () => {});
    await receiver.handle(sent, () => {});
    await expect(receiver.handle({}, () => {})).rejects.toMatchObject({ code: 'INVALID_ENVELOPE' });
    expect(stats.snapshot()).toEqual({
      received: 3,
      handled: 1,
      duplicate: 1,
      rejected: { INVALID_ENVELOPE: 1 },
      keyStoreLookups: 1, // the second is a cache hit
      keyStoreLookupsByAccount: { [sent.account_id]: 1 },
      observerErrors: 0,
      wireFormatDetected: 0,
    });
  });

  it('the receiver counts through receive() as handle() does (a returned event counts as handled)', async () => {
    const stats = createWebhookStats();
    const receiver = createWebhookReceiver({ keyStore: remoteStore(), stats, logger: false });
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await receiver.receive(sent);
    await receiver.receive(JSON.stringify(sent));
    await expect(receiver.receive({})).rejects.toMatchObject({ code: 'INVALID_ENVELOPE' });
    await expect(receiver.receive({ ...sent, key_id: 'whk_20000101_01' })).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    expect(stats.snapshot()).toEqual({
      received: 4,
      handled: 2,
      duplicate: 0,
      rejected: { INVALID_ENVELOPE: 1, UNKNOWN_KEY: 1 },
      keyStoreLookups: 2,
      keyStoreLookupsByAccount: { [sent.account_id]: 2 },
      observerErrors: 0,
      wireFormatDetected: 0,
    });
  });

  it('a custom sink sees each increment; a throwing sink changes nothing', async () => {
    const increment = vi.fn(() => {
      throw new Error('statsd down');
    });
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), stats: { increment }, onEvent() {} }));
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    await request(app).post(PATH).send(sent).expect(200);
    const account = { accountId: sent.account_id };
    expect(increment.mock.calls).toEqual([['received'], ['key_store_lookup', undefined, account], ['handled', undefined, account]]);
  });

  it('refuses a stats option without increment()', () => {
    expect(() => kompliantWebhook({ keyStore: memoryKeyStore({}), stats: {} as never })).toThrow(/stats/);
  });
});
