// The key cache's edges: option checks and their messages, what a background refresh or a late answer may change, exact TTL boundaries, refetch limits.
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cachedKeyStore, WebhookError, type CachedKeyStoreOptions, type KeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';
import { BAD_SECRET, KEY_A } from './contract.js';

const ACCOUNT = 'lv_CacheGuardAccount';
const HOUR = 60 * 60 * 1000;

/**
 * A store that calls a service (no `inProcess`, so budgeted): answers from `held`, or fails
 * as `mode` says; records every call's key id and account.
 */
function scriptedStore(held: Record<string, string> = {}) {
  const calls: Array<{ keyId: string; accountId: string | undefined }> = [];
  const state: { mode: 'answer' | 'down' | 'invalid' | 'hang'; release?: (value: string | undefined) => void } = { mode: 'answer' };
  const store: KeyStore = {
    getSecret(keyId, context) {
      calls.push({ keyId, accountId: context?.accountId });
      if (state.mode === 'down') return Promise.reject(new Error('service down'));
      if (state.mode === 'invalid') return Promise.reject(new WebhookError('INVALID_KEY', { message: 'secret is not base64 of 32 bytes' }));
      if (state.mode === 'hang') return new Promise((resolve) => (state.release = resolve));
      return Promise.resolve(held[keyId]);
    },
  };
  return { store, calls, state, held };
}

let clock = 10 * HOUR;
const now = () => clock;
/** The cache with a test clock and no TTL jitter, so expiry times are exact. */
const cache = (store: KeyStore, options: CachedKeyStoreOptions = {}) => cachedKeyStore(store, { now, ttlJitter: 0, ...options });
const ctx = { accountId: ACCOUNT };
/** Lets every settled store answer (a background refresh included) reach the cache. */
const drain = () => new Promise<void>((resolve) => setImmediate(resolve));

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    const value = await promise;
    return value === undefined ? 'undefined' : 'secret';
  } catch (error) {
    return (error as { code?: string }).code ?? 'not a WebhookError';
  }
}

afterEach(() => {
  clock = 10 * HOUR;
  vi.useRealTimers();
});

describe('cachedKeyStore options', () => {
  const store = scriptedStore().store;

  it('ttlJitter: 0 to 0.5 inclusive; a negative one is refused', () => {
    expect(() => cachedKeyStore(store, { ttlJitter: 0.5 })).not.toThrow();
    expect(() => cachedKeyStore(store, { ttlJitter: 0 })).not.toThrow();
    expect(() => cachedKeyStore(store, { ttlJitter: -0.1 })).toThrow('cachedKeyStore.ttlJitter must be a number from 0 to 0.5');
  });

  it('options that are not an object, and a store without getSecret, are refused with messages naming them', () => {
    for (const options of [null, 'ttlMs=5', 5]) {
      expect(() => cachedKeyStore(store, options as never)).toThrow('cachedKeyStore options must be an object');
    }
    expect(() => cachedKeyStore({} as never)).toThrow('cachedKeyStore: store must be an object with a getSecret');
  });

  it('a bad number names cachedKeyStore and the option', () => {
    expect(() => cachedKeyStore(store, { staleIfErrorMs: 0 })).toThrow('cachedKeyStore.staleIfErrorMs');
    expect(() => cachedKeyStore(store, { ttlMs: 0 })).toThrow('cachedKeyStore.ttlMs');
  });
});

describe('what a background refresh learns replaces the stale secret', () => {
  it('a key deleted from the store: served stale once, then unknown (and remembered as unknown)', async () => {
    const { store, calls, held } = scriptedStore({ [KEY_A]: generateSharedSecret() });
    const keys = cache(store, { ttlMs: 1_000 });
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret');
    delete held[KEY_A];
    clock += 1_000;
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret'); // stale, refreshed behind
    await drain();
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('undefined');
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('undefined');
    expect(calls).toHaveLength(2);
  });

  it('a refresh that finds a malformed secret: the stale secret is dropped, lookups answer INVALID_KEY', async () => {
    const { store, held } = scriptedStore({ [KEY_A]: generateSharedSecret() });
    const keys = cache(store, { ttlMs: 1_000 });
    await keys.getSecret(KEY_A, ctx);
    held[KEY_A] = BAD_SECRET;
    clock += 1_000;
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret');
    await drain();
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('INVALID_KEY');
  });

  it('a refresh the store rejects with INVALID_KEY (a configuration error) drops the stale secret; any other failure keeps it', async () => {
    const { store, state } = scriptedStore({ [KEY_A]: generateSharedSecret() });
    const keys = cache(store, { ttlMs: 1_000 });
    await keys.getSecret(KEY_A, ctx);
    state.mode = 'down';
    clock += 1_000;
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret');
    await drain();
    clock += 10_000; // errorRetryMs: the next request refreshes again
    state.mode = 'invalid';
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret');
    await drain();
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('INVALID_KEY');
  });
});

describe('exact boundaries', () => {
  it('a secret is served stale up to and including staleIfErrorMs past its expiry, not after', async () => {
    const { store, state } = scriptedStore({ [KEY_A]: generateSharedSecret() });
    const keys = cache(store, { ttlMs: 1_000, staleIfErrorMs: 5_000 });
    await keys.getSecret(KEY_A, ctx);
    state.mode = 'down';
    clock += 1_000 + 5_000;
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret');
    await drain();
    clock += 1;
    await expect(keys.getSecret(KEY_A, ctx)).rejects.toThrow('service down'); // waits for the store
  });

  it('an unknown key id is asked for again exactly negativeTtlMs later', async () => {
    const { store, calls } = scriptedStore();
    const keys = cache(store, { negativeTtlMs: 60_000 });
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('undefined');
    clock += 59_999;
    await keys.getSecret(KEY_A, ctx);
    expect(calls).toHaveLength(1);
    clock += 1;
    await keys.getSecret(KEY_A, ctx);
    expect(calls).toHaveLength(2);
  });
});

describe('store calls past their deadline', () => {
  it('answer 503 with a message giving the deadline, and what the store answers late is not cached', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const secret = generateSharedSecret();
    const { store, calls, state } = scriptedStore({ [KEY_A]: secret });
    const keys = cache(store, { timeoutMs: 100 });
    state.mode = 'hang';
    const first = keys.getSecret(KEY_A, ctx);
    const settled = first.then(
      () => 'resolved',
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(100);
    const error = await settled;
    expect(error).toBeInstanceOf(WebhookError);
    expect(error).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE', message: 'Key store lookup did not settle within 100 ms' });
    state.release?.(secret); // the late answer
    await drain();
    state.mode = 'answer';
    expect(await outcome(keys.getSecret(KEY_A, ctx))).toBe('secret');
    expect(calls).toHaveLength(2); // asked again: the late answer was ignored
  });
});

describe('the lookup budget', () => {
  it('past it, the 503 says the budget is spent', async () => {
    const { store, calls } = scriptedStore();
    const keys = cache(store, { accountLookupsPerSecond: 1 });
    await keys.getSecret(KEY_A, ctx);
    await expect(keys.getSecret('whk_20251121_02', ctx)).rejects.toMatchObject({
      code: 'KEY_STORE_UNAVAILABLE',
      message: 'Key store lookup budget exhausted, retry later',
    });
    expect(calls).toHaveLength(1);
  });
});

describe('refetchSecret', () => {
  it('a refetch the store fails still waits refetchIntervalMs before the next one', async () => {
    const old = generateSharedSecret();
    const { store, calls, state } = scriptedStore({ [KEY_A]: old });
    const keys = cache(store);
    await keys.getSecret(KEY_A, ctx);
    state.mode = 'down';
    clock += 60_000;
    for (let i = 0; i < 3; i++) expect(await keys.refetchSecret?.(KEY_A, { ...ctx, used: old })).toBeUndefined();
    expect(calls).toHaveLength(2);
    clock += 59_999;
    await keys.refetchSecret?.(KEY_A, { ...ctx, used: old });
    expect(calls).toHaveLength(2);
    clock += 1;
    await keys.refetchSecret?.(KEY_A, { ...ctx, used: old });
    expect(calls).toHaveLength(3);
  });

  it('resolves undefined when the store still holds the secret that failed, the new one when it changed', async () => {
    const old = generateSharedSecret();
    const { store, held } = scriptedStore({ [KEY_A]: old });
    const keys = cache(store);
    await keys.getSecret(KEY_A, ctx);
    clock += 60_000;
    expect(await keys.refetchSecret?.(KEY_A, { ...ctx, used: old })).toBeUndefined();
    held[KEY_A] = generateSharedSecret();
    clock += 60_000;
    expect(await keys.refetchSecret?.(KEY_A, { ...ctx, used: old })).toBe(held[KEY_A]);
  });

  it('a `used` of the wrong length never matches: the store\'s new secret is answered, not a RangeError', async () => {
    const old = generateSharedSecret();
    const { store, held } = scriptedStore({ [KEY_A]: old });
    const keys = cache(store);
    await keys.getSecret(KEY_A, ctx);
    held[KEY_A] = generateSharedSecret();
    for (const used of [Buffer.alloc(16, 1).toString('base64'), new Uint8Array(31)]) {
      clock += 60_000;
      expect(await keys.refetchSecret?.(KEY_A, { ...ctx, used })).toBe(held[KEY_A]);
    }
  });

  it('a secret held as bytes is the same secret as its base64 text: no refetched secret', async () => {
    const bytes = randomBytes(32);
    const keys = cache({ getSecret: async () => Uint8Array.from(bytes) });
    await keys.getSecret(KEY_A, ctx);
    for (const used of [bytes.toString('base64'), Uint8Array.from(bytes)]) {
      clock += 60_000;
      expect(await keys.refetchSecret?.(KEY_A, { ...ctx, used })).toBeUndefined();
    }
  });

  it('without an account, looks up the store with the empty account, and refetches that pair', async () => {
    const old = generateSharedSecret();
    const { store, calls, held } = scriptedStore({ [KEY_A]: old });
    const keys = cache(store);
    expect(await keys.getSecret(KEY_A)).toBe(old);
    expect(calls).toEqual([{ keyId: KEY_A, accountId: '' }]);
    held[KEY_A] = generateSharedSecret();
    clock += 60_000;
    expect(await keys.refetchSecret?.(KEY_A, { used: old } as never)).toBe(held[KEY_A]);
    expect(calls).toHaveLength(2);
  });

  it('never passes a malformed key id to the store, even one that reads as a cached (account, key id) pair', async () => {
    const old = generateSharedSecret();
    const { store, calls } = scriptedStore({ [KEY_A]: old });
    const keys = cache(store);
    await keys.getSecret(KEY_A, { accountId: 'x y' }); // the cache itself does not check account ids
    clock += 60_000;
    expect(await keys.refetchSecret?.(`y ${KEY_A}`, { accountId: 'x', used: old })).toBeUndefined();
    expect(calls.map((call) => call.keyId)).toEqual([KEY_A]);
  });
});

describe('cachedKeyStore.describe', () => {
  it('is the empty string when the wrapped store\'s describe throws or says nothing', () => {
    const { store } = scriptedStore();
    const throwing = cachedKeyStore({ ...store, describe: () => { throw new Error('no'); } });
    const silent = cachedKeyStore({ ...store, describe: () => '' });
    expect(throwing.describe?.(KEY_A, ctx)).toBe('');
    expect(silent.describe?.(KEY_A, ctx)).toBe('');
  });
});
