import { describe, expect, it } from 'vitest';
import { chainKeyStores, envKeyStore, memoryKeyStore, WebhookError, type KeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';
import { ABSENT, BAD_SECRET, KEY_A, KEY_B, keyStoreContract } from './contract.js';

/** A user-written store whose backend is down. */
/** An envKeyStore whose KEY_A variable turns to BAD_SECRET after construction (whose check refuses a bad secret). */
function badSecretStore(): KeyStore {
  const env: Record<string, string> = { KOMPLIANT_WEBHOOK_SECRET_20251121_01: generateSharedSecret() };
  const store = envKeyStore({ env });
  env.KOMPLIANT_WEBHOOK_SECRET_20251121_01 = BAD_SECRET;
  return store;
}

const down = (): KeyStore => ({ getSecret: () => Promise.reject(new Error('connection refused')) });

/** Counts the calls a store receives. */
function counted(store: KeyStore): KeyStore & { calls: string[] } {
  const calls: string[] = [];
  return { calls, getSecret: (keyId) => (calls.push(keyId), store.getSecret(keyId)) };
}

keyStoreContract('chainKeyStores (secrets split over two stores, a failing one first)', {
  holding: (secrets) => {
    const [first, ...rest] = Object.entries(secrets);
    return chainKeyStores(down(), memoryKeyStore(Object.fromEntries(first ? [first] : [])), memoryKeyStore(Object.fromEntries(rest)));
  },
  failing: () => chainKeyStores(down(), down()),
  holdingBadSecret: () => chainKeyStores(memoryKeyStore({}), badSecretStore()),
  holdingAccounts: (secrets) => chainKeyStores(down(), memoryKeyStore(secrets)),
});

describe('chainKeyStores', () => {
  it('asks in order and stops at the first store that holds the id', async () => {
    const a1 = generateSharedSecret();
    const a2 = generateSharedSecret();
    const first = counted(memoryKeyStore({ [KEY_A]: a1 }));
    const second = counted(memoryKeyStore({ [KEY_A]: a2, [KEY_B]: a2 }));
    const chain = chainKeyStores(first, second);
    await expect(chain.getSecret(KEY_A)).resolves.toBe(a1);
    expect(second.calls).toEqual([]);
    await expect(chain.getSecret(KEY_B)).resolves.toBe(a2);
    expect(first.calls).toEqual([KEY_A, KEY_B]);
    expect(second.calls).toEqual([KEY_B]);
  });

  it('a failing store does not hide a later one that holds the id', async () => {
    const secret = generateSharedSecret();
    await expect(chainKeyStores(down(), memoryKeyStore({ [KEY_A]: secret })).getSecret(KEY_A)).resolves.toBe(secret);
  });

  it('none holds it: undefined when at least one answered; AggregateError (causes kept) only when all failed', async () => {
    await expect(chainKeyStores(memoryKeyStore({}), memoryKeyStore({})).getSecret(ABSENT)).resolves.toBeUndefined();
    await expect(chainKeyStores(memoryKeyStore({}), down()).getSecret(ABSENT)).resolves.toBeUndefined();
    const error = await chainKeyStores(down(), down()).getSecret(ABSENT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors.map((e: Error) => e.message)).toEqual(['connection refused', 'connection refused']);
  });

  it('an invalid secret stops the chain with INVALID_KEY', async () => {
    const later = counted(memoryKeyStore({ [KEY_A]: generateSharedSecret() }));
    const chain = chainKeyStores(badSecretStore(), later);
    await expect(chain.getSecret(KEY_A)).rejects.toBeInstanceOf(WebhookError);
    expect(later.calls).toEqual([]);
  });

  it('describe() joins what each store says of where it looked', () => {
    const chain = chainKeyStores(memoryKeyStore({}), envKeyStore({ env: { KOMPLIANT_WEBHOOK_SECRET_20251121_02: generateSharedSecret() }, jsonVariable: false }));
    expect(chain.describe?.(KEY_A, { accountId: 'lv_Mine' })).toBe(
      'store 0 (no describe()); then envKeyStore read KOMPLIANT_WEBHOOK_SECRET_lv_Mine_20251121_01, KOMPLIANT_WEBHOOK_SECRET_20251121_01',
    );
  });

  it('refuses no stores or a non-store', () => {
    expect(() => chainKeyStores()).toThrow(TypeError);
    expect(() => chainKeyStores(memoryKeyStore({}), {} as KeyStore)).toThrow('store 1');
  });
});
