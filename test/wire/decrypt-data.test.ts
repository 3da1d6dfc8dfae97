import { describe, expect, it } from 'vitest';
import { isWebhookError } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { DATA_LAYOUT_NAMES, decryptData, defaultAad } from '../../src/wire.js';

// decryptData from `kompliant-webhooks/wire` is called from plain JavaScript by tooling: whatever
// it is handed, a failure is the one opaque DECRYPTION_FAILED, never a crash of another kind.

const secret = generateSharedSecret();

function failure(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('decryptData refuses what is not sealed bytes as DECRYPTION_FAILED', () => {
  it('the base64 text of a genuine data field, passed instead of its bytes (any layout)', () => {
    const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
    const aad = defaultAad(envelope);
    for (const layout of DATA_LAYOUT_NAMES) {
      const error = failure(() => decryptData(secret, envelope.data as never, aad, layout));
      expect(isWebhookError(error) && error.code, layout).toBe('DECRYPTION_FAILED');
    }
  });

  it('an array of numbers or an object with a length, passed instead of bytes', () => {
    const envelope = createTestWebhook({ secret, keyId: 'whk_20251121_01' });
    const aad = defaultAad(envelope);
    for (const value of [[...Buffer.from(envelope.data, 'base64')], { length: 64 }]) {
      const error = failure(() => decryptData(secret, value as never, aad));
      expect(isWebhookError(error) && error.code).toBe('DECRYPTION_FAILED');
    }
  });
});
