// Shared secrets at the edges: the AES key kept per base64 secret (reused, bounded), secrets of the wrong kind or length from a store's refetchSecret.
import { randomBytes, type KeyObject } from 'node:crypto';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, isWebhookError, memoryKeyStore, type KeyStore } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret, sealData } from '../../src/testing.js';
import { decryptData } from '../../src/wire.js';

// node:crypto's createSecretKey, watched: each call is one AES key built from secret bytes. Set on
// the builtin module itself (and synced to every ESM import of it), so modules loaded before this
// file see it too.
const nodeCrypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
const realCreateSecretKey = nodeCrypto.createSecretKey;
let keysBuilt = 0;
function countingCreateSecretKey(...args: [key: unknown, encoding?: unknown]): KeyObject {
  keysBuilt += 1;
  return Reflect.apply(realCreateSecretKey, nodeCrypto, args) as KeyObject;
}
beforeAll(() => {
  nodeCrypto.createSecretKey = countingCreateSecretKey;
  syncBuiltinESMExports();
});
afterAll(() => {
  nodeCrypto.createSecretKey = realCreateSecretKey;
  syncBuiltinESMExports();
});

const KEY_1 = 'whk_20251121_01';
const KEY_2 = 'whk_20251121_02';
const AAD = Buffer.from('aad');
const PLAINTEXT = Buffer.from('{"a":1}');

/** `data` sealed under `secret` (which puts its key in the cache) and a function opening it that returns the keys it built. */
function sealedUnder(secret: string): () => number {
  const data = sealData(secret, PLAINTEXT, AAD, randomBytes(12));
  return () => {
    keysBuilt = 0;
    expect(decryptData(secret, data, AAD)).toEqual(PLAINTEXT);
    return keysBuilt;
  };
}

describe('the AES key of a base64 secret', () => {
  it('is built once per secret, then reused by every webhook opened with it', async () => {
    const [a, b] = [generateSharedSecret(), generateSharedSecret()];
    keysBuilt = 0;
    const receiver = createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_1]: a, [KEY_2]: b }), logger: false });
    for (let i = 0; i < 3; i++) {
      await receiver.receive(createTestWebhook({ secret: a, keyId: KEY_1 }));
      await receiver.receive(createTestWebhook({ secret: b, keyId: KEY_2 }));
    }
    expect(keysBuilt).toBe(2);
  });

  it('is kept for at most 1024 secrets: the 1025th pushes out the oldest, which is built again', () => {
    const secrets = Array.from({ length: 1025 }, () => generateSharedSecret());
    const open = secrets.slice(0, 1024).map(sealedUnder);
    expect(open[0]!()).toBe(0);
    expect(open[1023]!()).toBe(0);
    sealedUnder(secrets[1024]!);
    expect(open[1]!()).toBe(0);
    expect(open[0]!()).toBe(1);
  });
});

describe('a secret that is neither base64 text nor bytes', () => {
  it('is INVALID_KEY (a configuration error), not a TypeError from node:crypto', () => {
    const data = sealData(generateSharedSecret(), PLAINTEXT, AAD, randomBytes(12));
    for (const secret of [Array.from({ length: 32 }, () => 7), { length: 32 }, 5]) {
      let error: unknown;
      try {
        decryptData(secret as never, data, AAD);
      } catch (caught) {
        error = caught;
      }
      expect(isWebhookError(error) && `${error.code} ${error.status}`).toBe('INVALID_KEY 500');
    }
  });
});

describe('refetchSecret answering something that is no valid secret, after DECRYPTION_FAILED', () => {
  const stale = generateSharedSecret();
  const current = generateSharedSecret();
  const receiveWithRefetch = (answer: unknown) => {
    const keyStore: KeyStore = { getSecret: async () => stale, refetchSecret: async () => answer as never };
    return createWebhookReceiver({ keyStore, cache: false, logger: false }).receive(createTestWebhook({ secret: current, keyId: KEY_1 }));
  };

  it.each([
    ['text that is not base64', 'not base64!'],
    ['base64 of 16 bytes', randomBytes(16).toString('base64')],
    ['16 bytes', new Uint8Array(16)],
    ['an array of 32 numbers', Array.from({ length: 32 }, () => 7)],
    ['a number', 5],
    ['an object', { secret: current }],
  ])('%s is 500 INVALID_KEY: the store is misconfigured, not the sender', async (_name, answer) => {
    await expect(receiveWithRefetch(answer)).rejects.toMatchObject({ code: 'INVALID_KEY', status: 500 });
  });
});
