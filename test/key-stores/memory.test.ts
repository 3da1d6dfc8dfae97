import { describe, expect, it } from 'vitest';
import { memoryKeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';
import { BAD_SECRET, KEY_A, keyStoreContract } from './contract.js';

keyStoreContract('memoryKeyStore', {
  holding: (secrets) => memoryKeyStore(secrets),
  failing: { none: 'memoryKeyStore holds its secrets in process memory and has no failure mode' },
  holdingBadSecret: { construction: () => memoryKeyStore({ [KEY_A]: BAD_SECRET }) },
  holdingAccounts: (secrets) => memoryKeyStore(secrets),
});

describe('memoryKeyStore: flat and nested by account', () => {
  it('nested: two accounts\' same key id are two secrets; without an account nothing is found', async () => {
    const a = generateSharedSecret();
    const b = generateSharedSecret();
    const store = memoryKeyStore({ lv_A: { [KEY_A]: a }, sb_B: new Map([[KEY_A, b]]) });
    await expect(store.getSecret(KEY_A, { accountId: 'lv_A' })).resolves.toBe(a);
    await expect(store.getSecret(KEY_A, { accountId: 'sb_B' })).resolves.toBe(b);
    await expect(store.getSecret(KEY_A, { accountId: 'lv_C' })).resolves.toBeUndefined();
    await expect(store.getSecret(KEY_A)).resolves.toBeUndefined();
  });

  it('a mix of both forms, a bad account id, or an undefined secret is a TypeError at construction that says so', () => {
    const a = generateSharedSecret();
    expect(() => memoryKeyStore({ lv_A: { [KEY_A]: a }, [KEY_A]: a } as never)).toThrow(/not a mix of both/);
    expect(() => memoryKeyStore({ 'lv A': { [KEY_A]: a } })).toThrow(/account id "lv A"/);
    expect(() => memoryKeyStore({ [KEY_A]: process.env.KOMPLIANT_NO_SUCH_VARIABLE! })).toThrow(/secret for whk_20251121_01 is undefined/);
    expect(() => memoryKeyStore({ lv_A: { [KEY_A]: undefined as never } })).toThrow(/account lv_A: the secret for whk_20251121_01 is undefined/);
  });

  it('surrounding whitespace is trimmed (the rule of every store and the CLI); inner whitespace is refused', async () => {
    const a = generateSharedSecret();
    await expect(memoryKeyStore({ [KEY_A]: ` ${a}\n` }).getSecret(KEY_A)).resolves.toBe(a);
    expect(() => memoryKeyStore({ [KEY_A]: `${a.slice(0, 10)} ${a.slice(10)}` })).toThrow(TypeError);
  });
});
