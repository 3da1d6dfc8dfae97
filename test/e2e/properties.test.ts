import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, memoryKeyStore, openEnvelope } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const SECRET = generateSharedSecret();
// Keys are cached by (account, key id) and every run draws a new account id: a budget that a
// flood of new accounts would exhaust in production is lifted here.
const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ whk_20251121_01: SECRET }), cache: { lookupsPerSecond: 1_000_000 } });

const idChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'.split(''));
const typeChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ_.-0123456789'.split(''));
const metadata = fc.record({
  id: fc.string({ unit: idChars, minLength: 1, maxLength: 128 }),
  eventType: fc.string({ unit: typeChars, minLength: 1, maxLength: 128 }),
  account_id: fc.string({ unit: idChars, minLength: 1, maxLength: 128 }),
  timestamp: fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  retry_count: fc.nat({ max: 95 }),
});
// Any JSON object as payload, including keys like __proto__ and constructor.
const payload = fc.dictionary(
  fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype')),
  fc.jsonValue(),
);

describe('properties', () => {
  it('seal-then-receive round-trips arbitrary JSON payloads and metadata', async () => {
    await fc.assert(
      fc.asyncProperty(metadata, payload, async (meta, data) => {
        const envelope = createTestWebhook({ secret: SECRET, keyId: 'whk_20251121_01', data, ...meta });
        const event = await receiver.receive(JSON.stringify(envelope));
        expect(event.data).toEqual(JSON.parse(JSON.stringify(data)));
        expect(event.id).toBe(meta.id);
        expect(event.event_type).toBe(meta.eventType);
        expect(event.retry_count).toBe(meta.retry_count);
      }),
      { numRuns: 300 },
    );
  });

  it('any single bit flip in data gives DECRYPTION_FAILED', () => {
    const envelope = createTestWebhook({ secret: SECRET, keyId: 'whk_20251121_01' });
    const bytes = Buffer.from(envelope.data, 'base64');
    fc.assert(
      fc.property(fc.nat({ max: bytes.length * 8 - 1 }), (bit) => {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3] = (flipped[bit >> 3] as number) ^ (1 << (bit & 7));
        expect(() => openEnvelope({ ...envelope, data: flipped.toString('base64') }, SECRET)).toThrowError(
          expect.objectContaining({ code: 'DECRYPTION_FAILED' }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('any change to an authenticated field gives DECRYPTION_FAILED', () => {
    const envelope = createTestWebhook({
      secret: SECRET,
      keyId: 'whk_20251121_01',
      id: 'wh_base',
      eventType: 'WORKFLOW_COMPLETED',
      account_id: 'lv_base',
      timestamp: '2025-11-21T14:30:22.123Z',
    });
    const change = fc.oneof(
      fc.string({ unit: idChars, minLength: 1, maxLength: 40 }).filter((v) => v !== 'wh_base').map((id) => ({ id })),
      fc
        .string({ unit: typeChars, minLength: 1, maxLength: 40 })
        .filter((v) => v !== 'WORKFLOW_COMPLETED')
        .map((event_type) => ({ event_type })),
      fc
        .string({ unit: idChars, minLength: 1, maxLength: 40 })
        .filter((v) => v !== 'lv_base')
        .map((account_id) => ({ account_id })),
      fc
        .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
        .map((d) => d.toISOString())
        .filter((v) => v !== envelope.timestamp)
        .map((timestamp) => ({ timestamp })),
      fc.constantFrom({ schema_version: '2025-10-21' }, { key_id: 'whk_20251121_02' }),
    );
    fc.assert(
      fc.property(change, (patch) => {
        expect(() => openEnvelope({ ...envelope, ...patch }, SECRET)).toThrowError(
          expect.objectContaining({ code: 'DECRYPTION_FAILED' }),
        );
      }),
      { numRuns: 500 },
    );
  });

  it('retry_count is not authenticated: any value opens the same event', () => {
    const envelope = createTestWebhook({ secret: SECRET, keyId: 'whk_20251121_01' });
    fc.assert(
      fc.property(fc.nat(), (retry_count) => {
        expect(openEnvelope({ ...envelope, retry_count }, SECRET).retry_count).toBe(retry_count);
      }),
      { numRuns: 100 },
    );
  });
});
