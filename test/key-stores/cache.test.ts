import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsSecretsManagerKeyStore } from '../../src/aws.js';
import {
  cachedKeyStore,
  createWebhookReceiver,
  createWebhookStats,
  envKeyStore,
  memoryKeyStore,
  type CachedKeyStoreOptions,
  type KeyStore,
  type KompliantEnvelope,
} from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { isValidKeyId } from '../../src/wire.js';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/secrets-manager-server.js';
import { BAD_SECRET, KEY_A, KEY_B, keyStoreContract } from './contract.js';

let sm: FakeSecretsManager;
beforeAll(async () => {
  sm = await startFakeSecretsManager();
});
afterAll(async () => {
  await sm.close();
});

let clock = 1_000_000;
afterEach(async () => {
  await quiet();
});
beforeEach(() => {
  clock = 1_000_000;
  sm.calls.length = 0;
  sm.secrets.clear();
  sm.errors.clear();
  sm.failAll = undefined;
  sm.gate = undefined;
});

/** An envKeyStore whose KEY_A variable turns to BAD_SECRET after construction (whose check refuses a bad secret). */
function badSecretStore(): KeyStore {
  const env: Record<string, string> = { KOMPLIANT_WEBHOOK_SECRET_20251121_01: generateSharedSecret() };
  const store = envKeyStore({ env });
  env.KOMPLIANT_WEBHOOK_SECRET_20251121_01 = BAD_SECRET;
  return store;
}

const HOUR = 60 * 60 * 1000;
/** One account for every webhook here: the cache is keyed by (account, key id). */
const ACCOUNT = 'sb_CacheTestAccount';
const now = () => clock;
const secretName = (keyId: string) => `kompliant/webhook/${keyId}`;
const hold = (keyId: string, secret: string) => sm.secrets.set(secretName(keyId), { SecretString: secret });

/** Store calls not settled yet: stale-while-revalidate refreshes run in the background. */
let running = 0;
/** Resolves once every store call started so far has settled (background refreshes included). */
const quiet = () => vi.waitFor(() => expect(running).toBe(0));

/** The AWS store, with the calls still running tracked for {@link quiet}. */
function trackedAwsStore(): KeyStore {
  const store = awsSecretsManagerKeyStore({ client: sm.client() });
  return {
    async getSecret(keyId, context) {
      running++;
      try {
        return await store.getSecret(keyId, context);
      } finally {
        running--;
      }
    },
  };
}

/** The receiver as users build it: the AWS store, the default cache (with a test clock). */
function receiver(cache: CachedKeyStoreOptions = {}) {
  return createWebhookReceiver({ keyStore: trackedAwsStore(), cache: { now, ...cache } });
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? 'not a WebhookError';
  }
}

function randomKeyId(): string {
  const day = String(19000101 + Math.floor(Math.random() * 1_000_000)).padStart(8, '0');
  return `whk_${day}_${String(1 + Math.floor(Math.random() * 99)).padStart(2, '0')}`;
}

keyStoreContract('cachedKeyStore (around memory, env and AWS stores)', {
  holding: (secrets) => cachedKeyStore(memoryKeyStore(secrets)),
  failing: () => {
    sm.failAll = { type: 'ThrottlingException', message: 'Rate exceeded' };
    return cachedKeyStore(awsSecretsManagerKeyStore({ client: sm.client() }));
  },
  holdingBadSecret: () => cachedKeyStore(badSecretStore()),
  holdingAccounts: (secrets) => cachedKeyStore(memoryKeyStore(secrets)),
});

describe('cachedKeyStore: call counts against the real SDK and a local Secrets Manager', () => {
  it('positive TTL: 20 webhooks -> 1 call; still cached just before 0.9 h; looked up again after 1 h', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    const r = receiver();
    for (let i = 0; i < 20; i++) await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    expect(sm.calls).toHaveLength(1);
    clock += 0.9 * HOUR - 1;
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    expect(sm.calls).toHaveLength(1);
    clock += 0.1 * HOUR + 2;
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })); // served stale at once
    await quiet(); // the one background refresh
    expect(sm.calls).toHaveLength(2);
  });

  it('two accounts x one key id: 2 lookups through the real SDK, each account\'s own secret, then none while cached', async () => {
    const live = generateSharedSecret();
    const sandbox = generateSharedSecret();
    sm.secrets.set(`kompliant/webhook/lv_Live/${KEY_A}`, { SecretString: live });
    sm.secrets.set(`kompliant/webhook/sb_Sandbox/${KEY_A}`, { SecretString: sandbox });
    const stats = createWebhookStats();
    const r = createWebhookReceiver({
      keyStore: awsSecretsManagerKeyStore({ client: sm.client(), secretId: 'kompliant/webhook/{account_id}/{key_id}' }),
      accounts: ['lv_Live', 'sb_Sandbox'],
      cache: { now },
      stats,
    });
    for (let i = 0; i < 10; i++) {
      await r.receive(createTestWebhook({ account_id: 'lv_Live', secret: live, keyId: KEY_A }));
      await r.receive(createTestWebhook({ account_id: 'sb_Sandbox', secret: sandbox, keyId: KEY_A }));
    }
    expect(sm.calls.map((c) => c.secretId).toSorted()).toEqual([`kompliant/webhook/lv_Live/${KEY_A}`, `kompliant/webhook/sb_Sandbox/${KEY_A}`]);
    expect(stats.snapshot().keyStoreLookupsByAccount).toEqual({ lv_Live: 1, sb_Sandbox: 1 });
    expect(await outcome(r.receive(createTestWebhook({ account_id: 'lv_Live', secret: sandbox, keyId: KEY_A })))).toBe('DECRYPTION_FAILED');
    expect(await outcome(r.receive(createTestWebhook({ account_id: 'lv_Third', secret: live, keyId: KEY_A })))).toBe('UNKNOWN_KEY');
    expect(sm.calls).toHaveLength(2);
  });

  it('jitter: entries cached together expire at different times within [0.9 h, 1 h)', async () => {
    const store = cachedKeyStore(trackedAwsStore(), { now, accountLookupsPerSecond: 100 });
    const ids = Array.from({ length: 40 }, (_, i) => `whk_20251121_${String(i + 10)}`);
    for (const id of ids) hold(id, generateSharedSecret());
    await Promise.all(ids.map((id) => store.getSecret(id)));
    expect(sm.calls).toHaveLength(40);
    clock += 0.95 * HOUR;
    await Promise.all(ids.map((id) => store.getSecret(id))); // stale ones served at once, refreshed behind
    await quiet();
    const refreshed = sm.calls.length - 40;
    expect(refreshed).toBeGreaterThan(0);
    expect(refreshed).toBeLessThan(40);
    clock += 0.05 * HOUR;
    await Promise.all(ids.map((id) => store.getSecret(id)));
    await quiet();
    expect(sm.calls.length).toBe(40 + 40);
  });

  it('single-flight: 100 concurrent first requests for one key id -> 1 call, 100 events', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    let open!: () => void;
    sm.gate = new Promise<void>((resolve) => (open = resolve));
    const r = receiver();
    const all = Promise.all(Array.from({ length: 100 }, () => outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))));
    // The first lookup reached the service; the other 99 started in the same turn and share it.
    await vi.waitFor(() => expect(sm.calls).toHaveLength(1));
    open();
    const results = await all;
    expect(results.filter((x) => x === 'ok')).toHaveLength(100);
    expect(sm.calls).toHaveLength(1);
  });

  it('negative cache: 50 webhooks for an unknown id -> 1 call; after 60 s a newly deployed secret works', async () => {
    const secret = generateSharedSecret();
    const r = receiver();
    const results = [];
    for (let i = 0; i < 50; i++) results.push(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_B }))));
    expect(new Set(results)).toEqual(new Set(['UNKNOWN_KEY']));
    expect(sm.calls).toHaveLength(1);
    hold(KEY_B, secret);
    clock += 59_999;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_B })))).toBe('UNKNOWN_KEY');
    expect(sm.calls).toHaveLength(1);
    clock += 2;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_B })))).toBe('ok');
    expect(sm.calls).toHaveLength(2);
  });

  it('budget: 10,000 webhooks of one account with random valid key ids at a frozen clock -> 20 calls, the rest 503 without a call', { timeout: 60_000 }, async () => {
    const r = receiver();
    const secret = generateSharedSecret();
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const code = await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: randomKeyId() })));
      counts.set(code, (counts.get(code) ?? 0) + 1);
    }
    expect(sm.calls).toHaveLength(20); // the account's own budget: 20 a second
    expect(counts.get('KEY_STORE_UNAVAILABLE')).toBe(10_000 - 20);
    expect(counts.get('UNKNOWN_KEY')).toBe(20);
  });

  it('budget: 10,000 random key ids over 10 s (1 ms apart), a pool of 10/s configured -> at most 10 + 10 x 10 calls', { timeout: 60_000 }, async () => {
    const r = receiver({ lookupsPerSecond: 10, lookupBurst: 10 });
    const secret = generateSharedSecret();
    for (let i = 0; i < 10_000; i++) {
      clock += 1;
      await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: randomKeyId() })));
    }
    expect(sm.calls.length).toBeGreaterThanOrEqual(100);
    expect(sm.calls.length).toBeLessThanOrEqual(110);
  });

  it('budget: a flood of unknown ids does not stop a key already cached', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    const r = receiver({ accountLookupsPerSecond: 2 });
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    for (let i = 0; i < 500; i++) await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: randomKeyId() })));
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
    // A budget of 2 for the account: one token for KEY_A; the flood's ids (dated 1900-2000, far
    // older than KEY_A) may not take the last half of the budget, so none reaches the store.
    expect(sm.calls.length).toBe(1);
  });

  it.each([
    '../x',
    '../../prod/db-password',
    "whk_20251121_01' OR '1'='1",
    'whk_20251121_01/../../x',
    'whk_2025112_01',
    'whk_20251121_1',
    'WHK_20251121_01',
    '__proto__',
    '${jndi:ldap://x}',
    'whk_20251121_01\n',
    'whk_20251121_01%00',
  ])('no store call at all for malformed key id %j (INVALID_ENVELOPE)', async (keyId) => {
    const secret = generateSharedSecret();
    const envelope: KompliantEnvelope = { ...createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }), key_id: keyId };
    expect(await outcome(receiver().receive(envelope))).toBe('INVALID_ENVELOPE');
    expect(await outcome(createWebhookReceiver({ keyStore: awsSecretsManagerKeyStore({ client: sm.client() }), cache: false }).receive(envelope))).toBe(
      'INVALID_ENVELOPE',
    );
    await expect(cachedKeyStore(awsSecretsManagerKeyStore({ client: sm.client() })).getSecret(keyId)).resolves.toBeUndefined();
    await expect(awsSecretsManagerKeyStore({ client: sm.client() }).getSecret(keyId)).resolves.toBeUndefined();
    expect(sm.calls).toHaveLength(0);
  });

  it('property: any key_id string that is not whk_YYYYMMDD_NN makes no store call, through the receiver or the store', async () => {
    const r = receiver();
    const store = cachedKeyStore(awsSecretsManagerKeyStore({ client: sm.client() }));
    const secret = generateSharedSecret();
    const base = createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.string().map((tail) => `whk_20251121_0${tail}`)), async (keyId) => {
        fc.pre(!isValidKeyId(keyId));
        expect(await outcome(r.receive({ ...base, key_id: keyId }))).toBe('INVALID_ENVELOPE');
        expect(await store.getSecret(keyId)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
    expect(sm.calls).toHaveLength(0);
  });

  it('stale-if-error: Secrets Manager down at refresh -> the last good secret is served, retried every 10 s', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    const r = receiver();
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    sm.failAll = { type: 'ThrottlingException', message: 'Rate exceeded' };
    clock += HOUR;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
    await quiet();
    expect(sm.calls).toHaveLength(2);
    for (let i = 0; i < 20; i++) expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
    await quiet();
    expect(sm.calls).toHaveLength(2);
    clock += 10_000;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
    await quiet();
    expect(sm.calls).toHaveLength(3);
    sm.failAll = undefined;
    clock += 10_000;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
    await quiet();
    expect(sm.calls).toHaveLength(4);
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
    expect(sm.calls).toHaveLength(4);
  });

  it('stale-if-error ends after staleIfErrorMs (503), and a key deleted from the store is not served stale', async () => {
    const a = generateSharedSecret();
    const b = generateSharedSecret();
    hold(KEY_A, a);
    hold(KEY_B, b);
    const r = receiver({ staleIfErrorMs: 60_000 });
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret: a, keyId: KEY_A }));
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret: b, keyId: KEY_B }));
    sm.errors.set(secretName(KEY_A), { type: 'InternalServiceError', message: 'down', status: 500 });
    sm.secrets.delete(secretName(KEY_B));
    clock += HOUR + 60_001;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: a, keyId: KEY_A })))).toBe('KEY_STORE_UNAVAILABLE');
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: b, keyId: KEY_B })))).toBe('UNKNOWN_KEY');
  });

  it('a malformed secret is never cached: each lookup asks again and answers INVALID_KEY', async () => {
    sm.secrets.set(secretName(KEY_A), { SecretString: BAD_SECRET });
    const r = receiver();
    const secret = generateSharedSecret();
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('INVALID_KEY');
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('INVALID_KEY');
    expect(sm.calls).toHaveLength(2);
  });

  it('LRU: with maxEntries 2, a third key evicts the least recently used one', async () => {
    const secrets = [KEY_A, KEY_B, 'whk_20251121_03'].map((id) => {
      const s = generateSharedSecret();
      hold(id, s);
      return [id, s] as const;
    });
    const r = receiver({ maxEntries: 2 });
    const send = (i: number) => r.receive(createTestWebhook({ account_id: ACCOUNT, secret: secrets[i]![1], keyId: secrets[i]![0] }));
    await send(0);
    await send(1);
    await send(0); // A is now the most recently used
    await send(2); // evicts B
    expect(sm.calls).toHaveLength(3);
    await send(0);
    expect(sm.calls).toHaveLength(3);
    await send(1);
    expect(sm.calls).toHaveLength(4);
  });
});

describe('cachedKeyStore: one rate-limited refetch on DECRYPTION_FAILED', () => {
  it('a secret corrected in the store is picked up within the TTL: 1 refetch, then the webhook passes', async () => {
    const wrong = generateSharedSecret();
    const right = generateSharedSecret();
    hold(KEY_A, wrong);
    const r = receiver();
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: right, keyId: KEY_A })))).toBe('DECRYPTION_FAILED');
    expect(sm.calls).toHaveLength(1); // just fetched: no refetch within 60 s of a lookup
    hold(KEY_A, right);
    clock += 30_000;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: right, keyId: KEY_A })))).toBe('DECRYPTION_FAILED');
    expect(sm.calls).toHaveLength(1);
    clock += 30_000;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: right, keyId: KEY_A })))).toBe('ok');
    expect(sm.calls).toHaveLength(2);
    for (let i = 0; i < 5; i++) await r.receive(createTestWebhook({ account_id: ACCOUNT, secret: right, keyId: KEY_A }));
    expect(sm.calls).toHaveLength(2);
  });

  it('forged webhooks for a known key id cost at most 1 store call per key per minute', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    const r = receiver();
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    const results = new Set<string>();
    for (let minute = 1; minute <= 5; minute++) {
      clock += 60_000;
      for (let i = 0; i < 200; i++) results.add(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: generateSharedSecret(), keyId: KEY_A }))));
    }
    expect(results).toEqual(new Set(['DECRYPTION_FAILED']));
    expect(sm.calls).toHaveLength(1 + 5);
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A })))).toBe('ok');
  });

  it('concurrent failures share one refetch; a refetch that fails keeps the cached secret', async () => {
    const old = generateSharedSecret();
    const fresh = generateSharedSecret();
    hold(KEY_A, old);
    const r = receiver();
    await r.receive(createTestWebhook({ account_id: ACCOUNT, secret: old, keyId: KEY_A }));
    hold(KEY_A, fresh);
    clock += 60_000;
    let open!: () => void;
    sm.gate = new Promise<void>((resolve) => (open = resolve));
    const all = Promise.all(Array.from({ length: 20 }, () => outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: fresh, keyId: KEY_A })))));
    // The refetch reached the service; the other 19 failures started in the same turn and share it.
    await vi.waitFor(() => expect(sm.calls).toHaveLength(2));
    open();
    sm.gate = undefined;
    const results = await all;
    expect(sm.calls).toHaveLength(2);
    expect(results.filter((x) => x === 'ok')).toHaveLength(20);

    sm.failAll = { type: 'ThrottlingException', message: 'Rate exceeded' };
    clock += 60_000;
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: generateSharedSecret(), keyId: KEY_A })))).toBe('DECRYPTION_FAILED');
    expect(sm.calls).toHaveLength(3);
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: fresh, keyId: KEY_A })))).toBe('ok');
  });

  it('with cache: false there is no refetch: every webhook is one store call', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    const r = createWebhookReceiver({ keyStore: awsSecretsManagerKeyStore({ client: sm.client() }), cache: false });
    expect(await outcome(r.receive(createTestWebhook({ account_id: ACCOUNT, secret: generateSharedSecret(), keyId: KEY_A })))).toBe('DECRYPTION_FAILED');
    for (let i = 0; i < 4; i++) await r.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    expect(sm.calls).toHaveLength(5);
  });
});

describe('cache options', () => {
  const store = memoryKeyStore({ [KEY_A]: generateSharedSecret() });
  it.each([
    [{ ttlMs: 0 }, 'cache.ttlMs'],
    [{ ttlJitter: 0.9 }, 'cache.ttlJitter'],
    [{ maxEntries: 1.5 }, 'cache.maxEntries'],
    [{ negativeTtlMs: -1 }, 'cache.negativeTtlMs'],
    [{ lookupsPerSecond: '10' }, 'cache.lookupsPerSecond'],
    [{ lookupBurst: 0 }, 'cache.lookupBurst'],
    [{ accountLookupsPerSecond: 2.5 }, 'cache.accountLookupsPerSecond'],
    [{ now: 5 }, 'cache.now'],
    [{ ttl: 5 }, 'ttl'],
  ])('refuses %j naming %s', (cache, named) => {
    expect(() => createWebhookReceiver({ keyStore: store, cache: cache as CachedKeyStoreOptions })).toThrow(named);
  });

  it('refuses a cache option that is not an object or boolean, and options for a store already cached', () => {
    expect(() => createWebhookReceiver({ keyStore: store, cache: 'yes' as never })).toThrow(TypeError);
    expect(() => createWebhookReceiver({ keyStore: cachedKeyStore(store), cache: { ttlMs: 5 } })).toThrow(TypeError);
    expect(() => cachedKeyStore({} as never)).toThrow(TypeError);
  });

  it('a shared cachedKeyStore is used as is by several receivers: one lookup for both', async () => {
    const secret = generateSharedSecret();
    hold(KEY_A, secret);
    const shared = cachedKeyStore(awsSecretsManagerKeyStore({ client: sm.client() }));
    const one = createWebhookReceiver({ keyStore: shared });
    const two = createWebhookReceiver({ keyStore: shared, cache: true });
    await one.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    await two.receive(createTestWebhook({ account_id: ACCOUNT, secret, keyId: KEY_A }));
    expect(sm.calls).toHaveLength(1);
  });
});

describe('cachedKeyStore.describe', () => {
  it('passes on the wrapped store\'s describe(), and has none when that store has none', () => {
    const env = envKeyStore({ env: { KOMPLIANT_WEBHOOK_SECRET_20251121_02: generateSharedSecret() }, jsonVariable: false });
    expect(cachedKeyStore(env).describe?.(KEY_A, { accountId: ACCOUNT })).toBe(env.describe?.(KEY_A, { accountId: ACCOUNT }));
    expect(cachedKeyStore(memoryKeyStore({})).describe).toBeUndefined();
  });
});
