// createSqsBatchHandler with realistic SQS events: which records come back (batchItemFailures) and which are dropped (spec section 7, "Queues").
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  memoryIdempotencyStore,
  type IdempotencyStore,
  type KeyStore,
  type StandardSchemaV1,
} from '../../src/index.js';
import { createSqsBatchHandler } from '../../src/lambda.js';
import { createTestWebhook, generateSharedSecret, samplePayload } from '../../src/testing.js';
import { sqsEvent, sqsRecord } from '../support/lambda-events.js';
import { collectingLogger, type LoggedLine } from '../support/logger.js';

const secret = generateSharedSecret();
const wrongSecret = generateSharedSecret();
const KEY = 'whk_20251121_01';
const STORE_DOWN_KEY = 'whk_20251121_02';
const STORE_HANGS_KEY = 'whk_20251121_03';
const UNKNOWN = 'whk_20251121_04';
const FIFO_QUEUE = 'arn:aws:sqs:us-east-2:123456789012:kompliant-webhooks.fifo';
const BODY_MARKER = 'BODY-MARKER-7f3a';

/** A key store that knows KEY, fails for STORE_DOWN_KEY, never answers for STORE_HANGS_KEY and has no UNKNOWN. */
const keyStore: KeyStore = {
  getSecret(keyId) {
    if (keyId === KEY) return Promise.resolve(secret);
    if (keyId === STORE_DOWN_KEY) return Promise.reject(new Error('secrets manager down'));
    if (keyId === STORE_HANGS_KEY) return new Promise(() => {});
    return Promise.resolve(undefined);
  },
};

/** A memory dedup store whose claim fails for ids starting `wh_claim_fails` and never answers for `wh_claim_hangs`. */
function flakyIdempotencyStore(): IdempotencyStore {
  const inner = memoryIdempotencyStore();
  return {
    claim(id, token, leaseMs) {
      if (id.startsWith('wh_claim_fails')) return Promise.reject(new Error('redis down'));
      if (id.startsWith('wh_claim_hangs')) return new Promise(() => {});
      return inner.claim(id, token, leaseMs);
    },
    complete: (id, token, ttlMs) => inner.complete(id, token, ttlMs),
    release: (id, token) => inner.release(id, token),
  };
}

/** A schema that refuses every payload: stands for one stricter than what the sender sends. */
const tooStrict: StandardSchemaV1 = {
  '~standard': { version: 1, vendor: 'test', validate: () => ({ issues: [{ message: 'expected a field the sender does not send', path: ['extra'] }] }) },
};


const envelope = (id: string, options: { keyId?: string; secret?: string; eventType?: string; data?: Record<string, unknown> } = {}) =>
  createTestWebhook({
    secret: options.secret ?? secret,
    keyId: options.keyId ?? KEY,
    id,
    ...(options.eventType === undefined ? {} : { eventType: options.eventType }),
    data: { ...samplePayload(), note: BODY_MARKER, ...options.data },
  });
const body = (...args: Parameters<typeof envelope>): string => JSON.stringify(envelope(...args));

const contextWith = (remainingMs: number): Context => ({ getRemainingTimeInMillis: () => remainingMs }) as Context;
const failed = (response: SQSBatchResponse | void): string[] => (response ? response.batchItemFailures.map((f) => f.itemIdentifier) : []);

function handlerFor(lines: LoggedLine[], handled: string[]) {
  return createSqsBatchHandler({
    keyStore,
    cache: false,
    keyStoreTimeoutMs: 100,
    idempotency: flakyIdempotencyStore(),
    idempotencyTimeoutMs: 100,
    handlerTimeoutMs: 100,
    schemas: { DOCUMENT_UPLOADED: tooStrict },
    logger: collectingLogger(lines),
    onEvent(event) {
      const data = event.data as { fail?: boolean; hang?: boolean };
      if (data.fail === true) throw new Error('database down');
      if (data.hang === true) return new Promise(() => {});
      handled.push(event.id);
      return undefined;
    },
  });
}

describe('createSqsBatchHandler: every failure a consumer-side fix can cure comes back; only never-valid records are dropped', () => {
  it('returns UNKNOWN_KEY, DECRYPTION_FAILED, store failures and timeouts, INVALID_PAYLOAD, handler failures and timeouts; acknowledges only the handled and the never valid', async () => {
    const lines: LoggedLine[] = [];
    const handled: string[] = [];
    const handler = handlerFor(lines, handled);
    const retried = {
      UNKNOWN_KEY: sqsRecord(body('wh_unknown_key', { keyId: UNKNOWN })),
      DECRYPTION_FAILED: sqsRecord(body('wh_wrong_secret', { secret: wrongSecret })),
      KEY_STORE_UNAVAILABLE: sqsRecord(body('wh_key_store_down', { keyId: STORE_DOWN_KEY })),
      'KEY_STORE_UNAVAILABLE (timeout)': sqsRecord(body('wh_key_store_hangs', { keyId: STORE_HANGS_KEY })),
      'idempotency store failure': sqsRecord(body('wh_claim_fails')),
      'idempotency store timeout': sqsRecord(body('wh_claim_hangs')),
      INVALID_PAYLOAD: sqsRecord(body('wh_too_strict', { eventType: 'DOCUMENT_UPLOADED' })),
      HANDLER_FAILED: sqsRecord(body('wh_handler_throws', { data: { fail: true } })),
      HANDLER_TIMEOUT: sqsRecord(body('wh_handler_hangs', { data: { hang: true } })),
    };
    const dropped = {
      'not JSON': sqsRecord(`not json ${BODY_MARKER}`),
      'a JSON array': sqsRecord(JSON.stringify([BODY_MARKER])),
      'not an envelope': sqsRecord(JSON.stringify({ id: 'wh_not_an_envelope', note: BODY_MARKER })),
      'a key_id breaking its pattern': sqsRecord(JSON.stringify({ ...envelope('wh_bad_key_id'), key_id: 'whk_1' })),
      'data that is not base64': sqsRecord(JSON.stringify({ ...envelope('wh_bad_data'), data: `${BODY_MARKER}!` })),
    };
    const ok = sqsRecord(body('wh_ok'));
    const records: SQSRecord[] = [ok, ...Object.values(retried), ...Object.values(dropped)];

    const response = await handler(sqsEvent(records), contextWith(60_000));

    // Exactly the retryable records, in batch order.
    expect(failed(response)).toEqual(Object.values(retried).map((r) => r.messageId));
    expect(handled).toEqual(['wh_ok']);

    // Each record failed for the reason it stands for (the receiver's line names the event id and the code).
    const codeOf = (id: string) => lines.find((line) => line.fields.id === id && line.fields.code !== undefined)?.fields.code;
    expect(codeOf('wh_unknown_key')).toBe('UNKNOWN_KEY');
    expect(codeOf('wh_wrong_secret')).toBe('DECRYPTION_FAILED');
    expect(codeOf('wh_key_store_down')).toBe('KEY_STORE_UNAVAILABLE');
    expect(codeOf('wh_key_store_hangs')).toBe('KEY_STORE_UNAVAILABLE');
    expect(codeOf('wh_claim_fails')).toMatch(/^(HANDLER_FAILED|IDEMPOTENCY_STORE_UNAVAILABLE)$/);
    expect(codeOf('wh_claim_hangs')).toMatch(/^(HANDLER_FAILED|IDEMPOTENCY_STORE_UNAVAILABLE)$/);
    expect(codeOf('wh_too_strict')).toBe('INVALID_PAYLOAD');
    expect(codeOf('wh_handler_throws')).toBe('HANDLER_FAILED');
    expect(codeOf('wh_handler_hangs')).toBe('HANDLER_TIMEOUT');

    // Each dropped record is logged once, with its message id and its code.
    const drops = lines.filter((line) => line.fields.message_id !== undefined);
    expect(drops.map((line) => [line.fields.message_id, line.fields.code])).toEqual([
      [dropped['not JSON'].messageId, 'INVALID_JSON'],
      [dropped['a JSON array'].messageId, 'INVALID_JSON'],
      [dropped['not an envelope'].messageId, 'INVALID_ENVELOPE'],
      [dropped['a key_id breaking its pattern'].messageId, 'INVALID_ENVELOPE'],
      [dropped['data that is not base64'].messageId, 'INVALID_ENVELOPE'],
    ]);
    expect(drops.every((line) => line.level === 'error' && /dropped/.test(line.message))).toBe(true);
    // No line carries a body, a payload value or a secret.
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain(BODY_MARKER);
    expect(logged).not.toContain(secret);
    for (const r of records) expect(logged).not.toContain(r.body);
  });

  it('a record that failed for a key the store did not have yet is handled when it comes back after the key was deployed', async () => {
    const keys = new Map<string, string>();
    const handled: string[] = [];
    const handler = createSqsBatchHandler({
      keyStore: { getSecret: (keyId) => Promise.resolve(keys.get(keyId)) },
      cache: false,
      logger: false,
      onEvent: (event) => void handled.push(event.id),
    });
    const r = sqsRecord(body('wh_rotated', { keyId: UNKNOWN }));
    expect(failed(await handler(sqsEvent([r]), contextWith(60_000)))).toEqual([r.messageId]);
    keys.set(UNKNOWN, secret);
    expect(failed(await handler(sqsEvent([r]), contextWith(60_000)))).toEqual([]);
    expect(handled).toEqual(['wh_rotated']);
  });

  it('skips a null entry and records without a messageId with a log line, and still reports and handles the rest', async () => {
    const lines: LoggedLine[] = [];
    const handled: string[] = [];
    const handler = handlerFor(lines, handled);
    const ok = sqsRecord(body('wh_beside_null'));
    const retry = sqsRecord(body('wh_beside_null_throws', { data: { fail: true } }));
    const { messageId: _dropped, ...noId } = sqsRecord(body('wh_no_message_id'));
    const emptyId = { ...sqsRecord(body('wh_empty_message_id')), messageId: '' };
    const event = { Records: [null, ok, noId, retry, emptyId, 42] } as unknown as SQSEvent;

    const response = await handler(event, contextWith(60_000));

    expect(failed(response)).toEqual([retry.messageId]);
    expect(handled).toEqual(['wh_beside_null']);
    const skips = lines.filter((line) => /skipped/.test(line.message));
    expect(skips.map((line) => line.message.match(/entry (\d+)/)?.[1])).toEqual(['0', '2', '4', '5']);
    expect(JSON.stringify(skips)).not.toContain(BODY_MARKER);
  });

  it('on a FIFO queue a skipped entry and a dropped record do not stop the batch; the first record to retry returns the rest', async () => {
    const lines: LoggedLine[] = [];
    const handled: string[] = [];
    const handler = handlerFor(lines, handled);
    const fifo = (b: string) => sqsRecord(b, { queueArn: FIFO_QUEUE });
    const first = fifo(body('wh_fifo_first'));
    const garbage = fifo('not json');
    const unknownKey = fifo(body('wh_fifo_unknown_key', { keyId: UNKNOWN }));
    const after = fifo(body('wh_fifo_after'));
    const event = { Records: [first, null, garbage, unknownKey, null, after] } as unknown as SQSEvent;

    expect(failed(await handler(event, contextWith(60_000)))).toEqual([unknownKey.messageId, after.messageId]);
    expect(handled).toEqual(['wh_fifo_first']);
  });

  describe('with no logger option', () => {
    afterEach(() => vi.restoreAllMocks());

    it('the default logger prints the dropped record\'s message id and code on stderr, never its body', async () => {
      const printed: string[] = [];
      vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
      vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
      const handler = createSqsBatchHandler({ keyStore, onEvent() {} });
      const garbage = sqsRecord(`{"not": "an envelope", "note": "${BODY_MARKER}"}`);
      expect(failed(await handler(sqsEvent([garbage]), contextWith(60_000)))).toEqual([]);
      const line = printed.find((text) => text.includes(garbage.messageId));
      expect(line).toContain('INVALID_ENVELOPE');
      expect(line).toContain('dropped');
      expect(printed.join('\n')).not.toContain(BODY_MARKER);
    });
  });
});
