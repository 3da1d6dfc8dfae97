import { createTestWebhook, generateSharedSecret, samplePayload } from '../src/testing.js';
import type { KompliantEnvelope } from '../src/index.js';

/** The key id every bench envelope uses unless a scenario needs several. */
export const BENCH_KEY_ID = 'whk_20251121_01';

/** The plaintext sizes of bench 1, in bytes of payload JSON. */
export const PAYLOAD_SIZES = [256, 1024, 16 * 1024, 256 * 1024] as const;

/** `256 B`, `1 KiB`, `16 KiB`... */
export function sizeLabel(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

/**
 * A payload 1.0 whose JSON is exactly `bytes` long: the sample payload plus realistic line
 * items, then a note string to land on the exact size. The same text is what the peers sign.
 */
export function payloadOfSize(bytes: number): Record<string, unknown> {
  const payload: Record<string, unknown> = { ...samplePayload() };
  const items: unknown[] = [];
  payload.items = items;
  payload.note = '';
  const emptySize = JSON.stringify(payload).length;
  if (emptySize > bytes) throw new RangeError(`a payload cannot be smaller than ${emptySize} bytes`);
  let size = emptySize;
  for (let n = 1; ; n++) {
    const item = { sku: `SKU-${String(n).padStart(6, '0')}`, description: `Line item ${n}`, quantity: n % 7, unit_price_cents: 1299 + n, tags: ['kyc', 'review'] };
    const itemSize = JSON.stringify(item).length + (items.length === 0 ? 0 : 1);
    if (size + itemSize > bytes) break;
    items.push(item);
    size += itemSize;
  }
  payload.note = 'x'.repeat(bytes - JSON.stringify(payload).length);
  return payload;
}

/** A fresh secret with `count` distinct sealed envelopes of the given payload (fresh ids). */
export function sealedEnvelopes(secret: string, payload: unknown, count: number, keyId = BENCH_KEY_ID): KompliantEnvelope[] {
  const envelopes: KompliantEnvelope[] = [];
  for (let i = 0; i < count; i++) envelopes.push(createTestWebhook({ secret, keyId, data: payload }));
  return envelopes;
}

/** Re-exported so bench files take all fixtures from one place. */
export { generateSharedSecret };
