import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openEnvelope } from '../../src/index.js';
import { decryptData, defaultAad } from '../../src/wire.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

const chars = (alphabet: string, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...alphabet), minLength: 1, maxLength });
const ID = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const two = (max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(2, '0'));

const validMetadata = fc.record({
  id: chars(ID, 128),
  event_type: chars(`${ID}.`, 128),
  timestamp: fc
    .tuple(fc.integer({ min: 1970, max: 2999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), two(23), two(59), two(59),
      fc.constantFrom('', '.1', '.123', '.123456789'), fc.constantFrom('Z', '+00:00', '-05:30', '+14:00'))
    .map(([y, mo, d, h, mi, s, frac, zone]) => `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${h}:${mi}:${s}${frac}${zone}`),
  account_id: chars(ID, 128),
  schema_version: fc.constantFrom('2025-11-21', '2025-10-21', '2026-02-28'),
  key_id: fc.tuple(fc.integer({ min: 20000101, max: 29991231 }), fc.integer({ min: 1, max: 99 })).map(([d, n]) => `whk_${d}_${String(n).padStart(2, '0')}`),
});

describe('default AAD on the receive path', () => {
  const secret = generateSharedSecret();

  it('equals JSON.stringify of the six fields for every valid envelope (sealed with defaultAad, opened by the pipeline)', () => {
    fc.assert(
      fc.property(validMetadata, (m) => {
        const envelope = createTestWebhook({ secret, keyId: m.key_id, id: m.id, eventType: m.event_type, timestamp: m.timestamp, account_id: m.account_id, schema_version: m.schema_version, data: { ok: true } });
        expect(openEnvelope(envelope, secret).data).toEqual({ ok: true });
        expect(defaultAad(m).toString('utf8')).toBe(JSON.stringify({ id: m.id, event_type: m.event_type, timestamp: m.timestamp, account_id: m.account_id, schema_version: m.schema_version, key_id: m.key_id }));
      }),
      { numRuns: 300 },
    );
  });

  it('test webhooks with metadata a receiver refuses (a quote, a non-ASCII letter) are still sealed under the spec AAD of that metadata', () => {
    for (const id of ['wh_"quoted"', 'wh_caf\u00e9', 'wh_\\']) {
      const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01', id, data: { ok: true } });
      const { data, retry_count: _retryCount, ...metadata } = envelope;
      expect(JSON.parse(decryptData(secret, Buffer.from(data, 'base64'), defaultAad(metadata)).toString('utf8')), id).toEqual({ ok: true });
    }
  });

  it('still authenticates every metadata field: changing any one fails decryption', () => {
    const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
    for (const [field, value] of [['id', 'wh_other'], ['event_type', 'OTHER'], ['timestamp', '2025-01-01T00:00:00Z'], ['account_id', 'lv_other'], ['schema_version', '2025-10-21']] as const) {
      expect(() => openEnvelope({ ...envelope, [field]: value }, secret), field).toThrow(expect.objectContaining({ code: 'DECRYPTION_FAILED' }));
    }
  });
});
