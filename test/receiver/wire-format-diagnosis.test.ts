import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createWebhookReceiver,
  createWebhookStats,
  kompliantWebhook,
  memoryKeyStore,
  type WebhookLogFields,
  type WebhookLogger,
} from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import type { EnvelopeMetadata } from '../../src/wire.js';

const KEY_ID = 'whk_20251121_01';
const OTHER_KEY_ID = 'whk_20251121_02';
const PATH = '/webhooks/kompliant';
const MARKER = 'plaintext-marker-7f3a';

interface Line {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: WebhookLogFields;
  message: string;
}

/** A logger that keeps every line. */
function captureLogger(): WebhookLogger & { lines: Line[]; diagnoses(): Line[] } {
  const lines: Line[] = [];
  const at = (level: Line['level']) => (fields: WebhookLogFields, message: string) => {
    lines.push({ level, fields, message });
  };
  return {
    lines,
    diagnoses: () => lines.filter((line) => line.fields.wire_format !== undefined),
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}

/** A zero timer: a diagnosis scheduled before it (on its own zero timer) has run by the time it resolves. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** An envelope whose payload carries a marker, so a leak of the plaintext shows. */
const sealed = (secret: string, options: Omit<Parameters<typeof createTestWebhook>[0], 'secret'> = {}) =>
  createTestWebhook({ keyId: KEY_ID, data: { version: '1.0', note: MARKER }, ...options, secret });

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('wire-format diagnosis through Express', () => {
  it('a receiver left at the default layout logs the right one after the first failed delivery; the answer stays 401', async () => {
    const secret = generateSharedSecret();
    const logger = captureLogger();
    const stats = createWebhookStats();
    const onEvent = vi.fn();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: secret }), logger, stats, onEvent }));

    const res = await request(app).post(PATH).send(sealed(secret, { layout: 'nonce-tag-ciphertext' }));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: 'DECRYPTION_FAILED' } });
    expect(onEvent).not.toHaveBeenCalled();

    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(1));
    const [line] = logger.diagnoses();
    expect(line).toMatchObject({
      level: 'error',
      fields: {
        key_id: KEY_ID,
        wire_format: { layout: 'nonce-tag-ciphertext', aad: expect.stringMatching(/^default/), configure: "layout: 'nonce-tag-ciphertext', aad: 'default'" },
      },
    });
    expect(line!.message).toContain("layout: 'nonce-tag-ciphertext'");
    expect(line!.message).not.toContain('unauthenticated');
    // The usual rejection line is there too, unchanged.
    expect(logger.lines.filter((l) => l.fields.code === 'DECRYPTION_FAILED')).toHaveLength(1);
    expect(stats.snapshot()).toMatchObject({ rejected: { DECRYPTION_FAILED: 1 }, wireFormatDetected: 1 });
    // Never the plaintext, never the key.
    const written = JSON.stringify(logger.lines);
    expect(written).not.toContain(MARKER);
    expect(written).not.toContain(secret);
  });

  it('diagnoseWireFormat: false turns it off', async () => {
    const secret = generateSharedSecret();
    const logger = captureLogger();
    const stats = createWebhookStats();
    const app = express();
    app.post(PATH, kompliantWebhook({ keyStore: memoryKeyStore({ [KEY_ID]: secret }), logger, stats, onEvent: () => {}, diagnoseWireFormat: false }));

    await request(app).post(PATH).send(sealed(secret, { layout: 'nonce-tag-ciphertext' })).expect(401);
    await nextTurn();
    await nextTurn();
    expect(logger.diagnoses()).toEqual([]);
    expect(logger.lines).toHaveLength(1);
    expect(stats.snapshot().wireFormatDetected).toBe(0);
  });
});

describe('wire-format diagnosis through createWebhookReceiver', () => {
  it('runs after the rejection is answered, and names aad none as a weaker choice', async () => {
    const secret = generateSharedSecret();
    const logger = captureLogger();
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }), logger });

    await expect(receiver.receive(sealed(secret, { aad: 'none' }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED', status: 401 });
    // The caller has its answer before any candidate ran.
    expect(logger.diagnoses()).toEqual([]);
    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(1));
    const [line] = logger.diagnoses();
    expect(line!.level).toBe('error');
    expect(line!.fields.wire_format).toMatchObject({ layout: 'nonce-ciphertext-tag', configure: "layout: 'nonce-ciphertext-tag', aad: 'none'" });
    expect(line!.message).toContain("aad: 'none'");
    expect(line!.message).toContain('unauthenticated');
    expect(line!.message).toContain('never switches by itself');
    // It never adopts it: the same envelope is still refused.
    await expect(receiver.receive(sealed(secret, { aad: 'none' }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
  });

  it('an AAD no option can configure (the envelope with retry_count) is reported as such, with no option to set', async () => {
    const secret = generateSharedSecret();
    const logger = captureLogger();
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }), logger });
    const aad = (m: EnvelopeMetadata) =>
      JSON.stringify({ id: m.id, event_type: m.event_type, timestamp: m.timestamp, account_id: m.account_id, schema_version: m.schema_version, key_id: m.key_id, retry_count: 0 });

    await expect(receiver.receive(sealed(secret, { aad }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(1));
    const [line] = logger.diagnoses();
    expect(line!.message).toContain('no option can configure');
    expect(line!.message).not.toMatch(/configure layout/);
    expect(line!.fields.wire_format!.configure).toMatch(/^layout: 'nonce-ciphertext-tag'; the AAD is not configurable: retry_count/);
  });

  it('runs the candidates at most once per key per 10 minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.parse('2026-01-01T00:00:00Z');
    vi.setSystemTime(start);
    const secret = generateSharedSecret();
    const other = generateSharedSecret();
    const logger = captureLogger();
    const stats = createWebhookStats();
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret, [OTHER_KEY_ID]: other }), logger, stats });
    const fail = async (keyId: string, key: string) =>
      expect(receiver.handle(sealed(key, { keyId, layout: 'tag-ciphertext-nonce' }), () => {})).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });

    await fail(KEY_ID, secret);
    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(1));

    vi.setSystemTime(start + 9 * 60_000);
    await fail(KEY_ID, secret);
    await nextTurn();
    await nextTurn();
    expect(logger.diagnoses()).toHaveLength(1);

    // Another key has its own window.
    await fail(OTHER_KEY_ID, other);
    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(2));
    expect(logger.diagnoses()[1]!.fields.key_id).toBe(OTHER_KEY_ID);

    vi.setSystemTime(start + 10 * 60_000);
    await fail(KEY_ID, secret);
    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(3));
    expect(logger.diagnoses().map((l) => l.fields.key_id)).toEqual([KEY_ID, OTHER_KEY_ID, KEY_ID]);
    expect(stats.snapshot()).toMatchObject({ rejected: { DECRYPTION_FAILED: 4 }, wireFormatDetected: 3 });
  });

  it('a wrong secret (no candidate opens) logs nothing beyond the usual line', async () => {
    const logger = captureLogger();
    const stats = createWebhookStats();
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: generateSharedSecret() }), logger, stats });

    await expect(receiver.receive(sealed(generateSharedSecret(), { layout: 'nonce-tag-ciphertext' }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await nextTurn();
    await nextTurn();
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ level: 'warn', fields: { code: 'DECRYPTION_FAILED' } });
    expect(stats.snapshot().wireFormatDetected).toBe(0);
  });

  it('diagnoses with the secret the store gives after refetchSecret, not the one that failed first', async () => {
    const stale = generateSharedSecret();
    const current = generateSharedSecret();
    const logger = captureLogger();
    const keyStore = { getSecret: async () => stale, refetchSecret: async () => current };
    const receiver = createWebhookReceiver({ keyStore, cache: false, logger });

    await expect(receiver.receive(sealed(current, { layout: 'ciphertext-nonce-tag' }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await vi.waitFor(() => expect(logger.diagnoses()).toHaveLength(1));
    expect(logger.diagnoses()[0]!.fields.wire_format?.layout).toBe('ciphertext-nonce-tag');
  });

  it('goes through the default logger (stderr) when no logger is given', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const secret = generateSharedSecret();
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: secret }) });

    await expect(receiver.receive(sealed(secret, { layout: 'tag-nonce-ciphertext' }))).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await vi.waitFor(() => expect(printed).toHaveBeenCalledTimes(1));
    expect(String(printed.mock.calls[0]![0])).toMatch(/wire format detected.*layout: 'tag-nonce-ciphertext'.*key_id=whk_20251121_01/s);
  });

  it('checks the option like the others', () => {
    const keyStore = memoryKeyStore({ [KEY_ID]: generateSharedSecret() });
    expect(() => createWebhookReceiver({ keyStore, diagnoseWireFormat: 'no' as unknown as boolean })).toThrow(/diagnoseWireFormat must be true or false/);
    expect(() => createWebhookReceiver({ keyStore, diagnoseWireFormat: false })).not.toThrow();
  });
});
