import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, type KeyStore } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

export const KEY_A = 'whk_20251121_01';
export const KEY_B = 'whk_20251121_02';
export const ABSENT = 'whk_20251121_99';
/** Not base64 of 32 bytes (16 bytes). */
export const BAD_SECRET = Buffer.alloc(16, 7).toString('base64');

/** How the contract builds a store of one kind. */
export interface KeyStoreHarness {
  /** A store holding exactly these secrets (key id -> base64). */
  holding(secrets: Record<string, string>): KeyStore | Promise<KeyStore>;
  /** A store whose backend fails; `undefined` when the store has no failure mode (reason given). */
  failing: (() => KeyStore | Promise<KeyStore>) | { none: string };
  /** A store holding BAD_SECRET for KEY_A; `{ construction }` when construction refuses it. */
  holdingBadSecret: (() => KeyStore | Promise<KeyStore>) | { construction: () => unknown };
  /**
   * A store holding several accounts' keys (account id -> key id -> base64), for stores that
   * can; `{ none }` with the reason for stores that serve one account.
   */
  holdingAccounts: ((secrets: Record<string, Record<string, string>>) => KeyStore | Promise<KeyStore>) | { none: string };
}

export const ACCOUNT_A = 'lv_ContractAccountA';
export const ACCOUNT_B = 'sb_ContractAccountB';

const bytesOf = (secret: string | Uint8Array): string =>
  Buffer.from(typeof secret === 'string' ? Buffer.from(secret, 'base64') : secret).toString('hex');

/**
 * The key-store contract every store passes: hit, unknown -> undefined, failure -> reject,
 * bad secret -> INVALID_KEY through the receiver. Run with the cache off, so the store itself
 * is what is tested.
 */
export function keyStoreContract(name: string, harness: KeyStoreHarness): void {
  describe(`KeyStore contract: ${name}`, () => {
    it('hit: resolves the secret held for the key id, and the receiver decrypts with it', async () => {
      const a = generateSharedSecret();
      const b = generateSharedSecret();
      const store = await harness.holding({ [KEY_A]: a, [KEY_B]: b });
      const got = await store.getSecret(KEY_B);
      expect(got).toBeDefined();
      expect(bytesOf(got!)).toBe(bytesOf(b));
      const receiver = createWebhookReceiver({ keyStore: store, cache: false });
      const event = await receiver.receive(createTestWebhook({ secret: a, keyId: KEY_A }));
      expect(event.key_id).toBe(KEY_A);
    });

    it('unknown: resolves undefined, and the receiver answers UNKNOWN_KEY (401)', async () => {
      const store = await harness.holding({ [KEY_A]: generateSharedSecret() });
      await expect(store.getSecret(ABSENT)).resolves.toBeUndefined();
      const receiver = createWebhookReceiver({ keyStore: store, cache: false });
      await expect(receiver.receive(createTestWebhook({ secret: generateSharedSecret(), keyId: ABSENT }))).rejects.toMatchObject({
        code: 'UNKNOWN_KEY',
        status: 401,
      });
    });

    const byAccount = harness.holdingAccounts;
    if (typeof byAccount === 'function') {
      it('accounts: two accounts\' same key id resolve to each account\'s own secret; an account not held is unknown', async () => {
        const a = generateSharedSecret();
        const b = generateSharedSecret();
        const store = await byAccount({ [ACCOUNT_A]: { [KEY_A]: a }, [ACCOUNT_B]: { [KEY_A]: b } });
        expect(bytesOf((await store.getSecret(KEY_A, { accountId: ACCOUNT_A }))!)).toBe(bytesOf(a));
        expect(bytesOf((await store.getSecret(KEY_A, { accountId: ACCOUNT_B }))!)).toBe(bytesOf(b));
        await expect(store.getSecret(KEY_A, { accountId: 'lv_NotHeld' })).resolves.toBeUndefined();
        const receiver = createWebhookReceiver({ keyStore: store, cache: false });
        for (const [account_id, secret] of [[ACCOUNT_A, a], [ACCOUNT_B, b]] as const) {
          const event = await receiver.receive(createTestWebhook({ secret, keyId: KEY_A, account_id }));
          expect(event.account_id).toBe(account_id);
        }
      });
    } else {
      it('accounts: a one-account store answers the same whatever the account (safe only for one account per receiver)', async () => {
        const a = generateSharedSecret();
        const store = await harness.holding({ [KEY_A]: a });
        expect(bytesOf((await store.getSecret(KEY_A, { accountId: ACCOUNT_A }))!)).toBe(bytesOf(a));
        expect(bytesOf((await store.getSecret(KEY_A, { accountId: ACCOUNT_B }))!)).toBe(bytesOf(a));
        expect(byAccount.none).not.toBe('');
      });
    }

    const failing = harness.failing;
    if (typeof failing === 'function') {
      it('failure: rejects, and the receiver answers KEY_STORE_UNAVAILABLE (503) with the cause kept', async () => {
        const store = await failing();
        await expect(store.getSecret(KEY_A)).rejects.toBeDefined();
        const receiver = createWebhookReceiver({ keyStore: store, cache: false });
        const error = await receiver.receive(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_A })).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE', status: 503 });
        expect((error as Error).cause).toBeDefined();
      });
    } else {
      it.skip(`failure: skipped, ${failing.none}`, () => {});
    }

    const bad = harness.holdingBadSecret;
    if (typeof bad === 'function') {
      it('bad secret: the receiver answers INVALID_KEY (500), the secret in no message', async () => {
        const store = await bad();
        const receiver = createWebhookReceiver({ keyStore: store, cache: false });
        const error = await receiver.receive(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_A })).catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'INVALID_KEY', status: 500 });
        expect(JSON.stringify(error)).not.toContain(BAD_SECRET);
        expect(String((error as Error).message)).not.toContain(BAD_SECRET);
        expect(String((error as Error).stack)).not.toContain(BAD_SECRET);
      });
    } else {
      it('bad secret: refused at construction with a TypeError that does not contain it', () => {
        let thrown: unknown;
        try {
          bad.construction();
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(TypeError);
        expect(String((thrown as Error).message)).not.toContain(BAD_SECRET);
      });
    }
  });
}
