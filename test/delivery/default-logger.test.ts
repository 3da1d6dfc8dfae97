import express from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, kompliantWebhook, memoryKeyStore, type KompliantWebhookOptions } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { createDefaultLogger } from '../../src/delivery/default-logger.js';
import { KEY_ID, PATH, SECRET } from '../support/app.js';

const MARKER = 'PLAINTEXT-MARKER-51c2';
const payload = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u', user_type: 'USER' }, note: MARKER };

describe('default logging: with no logger option, rejections and failures print one line on stderr', () => {
  let lines: { level: 'warn' | 'error'; text: string }[];
  beforeEach(() => {
    lines = [];
    vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void lines.push({ level: 'warn', text: args.map(String).join(' ') }));
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push({ level: 'error', text: args.map(String).join(' ') }));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'info').mockImplementation(() => {});
  });
  afterEach(() => vi.restoreAllMocks());

  const app = (options: Partial<KompliantWebhookOptions> = {}) => {
    const a = express();
    a.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), onEvent() {}, ...options }));
    return a;
  };
  const send = (target: express.Express, body: object) => request(target).post(PATH).set('content-type', 'application/json').send(JSON.stringify(body));

  it('a wrong secret: one warn line with the code, key_id, account_id and id, and a hint', async () => {
    const sent = createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID, data: payload });
    await send(app(), sent).expect(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('warn');
    expect(lines[0]?.text).toContain('401 DECRYPTION_FAILED');
    for (const value of [KEY_ID, sent.account_id, sent.id]) expect(lines[0]?.text).toContain(value);
    expect(lines[0]?.text).toContain('detect');
    expect(lines[0]?.text).not.toContain(sent.data);
    expect(lines[0]?.text).not.toContain(SECRET);
  });

  it('an unknown key: one warn line naming the key_id', async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: 'whk_20000101_01', data: payload });
    await send(app(), sent).expect(401);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', text: expect.stringContaining('401 UNKNOWN_KEY (key_id=whk_20000101_01') });
  });

  it("a throwing handler: one error line with the handler's message and stack", async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload });
    await send(app({ onEvent: () => Promise.reject(new Error('db down')) }), sent).expect(500);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.level).toBe('error');
    expect(lines[0]?.text).toMatch(/^kompliant-webhooks: failed 500 HANDLER_FAILED \(key_id=whk_20251121_01 account_id=\S+ id=\S+ event_type=\S+\): handler threw: db down\nError: db down\n\s+at /);
    expect(lines[0]?.text).not.toContain(MARKER);
    expect(lines[0]?.text).not.toContain(sent.data);
  });

  it('nothing for deliveries that ended well; logger: false prints nothing at all', async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload });
    await send(app(), sent).expect(200);
    await send(app(), sent).expect(200);
    await send(app({ logger: false }), { ...sent, key_id: 'whk_20000101_01' }).expect(401);
    await send(app({ logger: false, onEvent: () => Promise.reject(new Error('db down')) }), sent).expect(500);
    expect(lines).toEqual([]);
  });

  it('logger: console gets the handler error in its HANDLER_FAILED line', async () => {
    const sent = createTestWebhook({ secret: SECRET, keyId: KEY_ID, data: payload });
    const target = app({ logger: console, onEvent: () => Promise.reject(new Error('db down')) });
    const errors = vi.mocked(console.error);
    await send(target, sent).expect(500);
    const [fields, message] = errors.mock.calls.at(-1) ?? [];
    expect(message).toBe('kompliant webhook failed: HANDLER_FAILED');
    expect(fields).toMatchObject({ code: 'HANDLER_FAILED', key_id: KEY_ID, account_id: sent.account_id, id: sent.id, handler_error: { message: 'db down' } });
  });

  it('the receiver reports the same way, through receive() and handle()', async () => {
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }) });
    await expect(receiver.receive(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_ID }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await expect(receiver.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID }), () => Promise.reject(new Error('db down')))).rejects.toMatchObject({
      code: 'HANDLER_FAILED',
    });
    expect(lines.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(lines[0]?.text).toContain('DECRYPTION_FAILED');
    expect(lines[1]?.text).toContain('handler threw: db down');
  });
});

describe('createDefaultLogger: at most one line per code per interval, then a count of the rest', () => {
  afterEach(() => vi.restoreAllMocks());

  it('suppresses repeats of a code within 10 s and counts them in the next line', () => {
    const printed: string[] = [];
    vi.spyOn(console, 'warn').mockImplementation((line: string) => void printed.push(line));
    vi.spyOn(console, 'error').mockImplementation((line: string) => void printed.push(line));
    let now = 1_000_000;
    const logger = createDefaultLogger(10_000, () => now);
    const unknown = { code: 'UNKNOWN_KEY', key_id: 'whk_20000101_01', outcome: 'rejected' } as const;
    logger.warn(unknown, 'x');
    for (let i = 0; i < 5; i++) logger.warn(unknown, 'x');
    logger.error({ code: 'KEY_STORE_UNAVAILABLE', outcome: 'rejected' }, 'x'); // another code: its own budget
    logger.info({ outcome: 'handled' }, 'x');
    logger.debug({}, 'x');
    expect(printed).toHaveLength(2);
    now += 9_999;
    logger.warn(unknown, 'x');
    expect(printed).toHaveLength(2);
    now += 1;
    logger.warn(unknown, 'x');
    expect(printed).toHaveLength(3);
    expect(printed[2]).toContain('[6 more UNKNOWN_KEY in the last 10 s not printed]');
    now += 10_000;
    logger.warn(unknown, 'x');
    expect(printed[3]).not.toContain('not printed');
  });
});
