// The key cache's lookup budget: per account, a pool for accounts not authenticated yet, plausible key ids first, in-process stores never budgeted.
import { describe, expect, it } from 'vitest';
import {
  cachedKeyStore,
  chainKeyStores,
  createWebhookReceiver,
  createWebhookStats,
  envKeyStore,
  memoryKeyStore,
  type CachedKeyStoreOptions,
  type KeyStore,
} from '../../src/index.js';
import { createFetchHandler } from '../../src/fetch.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';

/** The injected clock starts at a real date: key ids are judged against it. */
const START = Date.UTC(2026, 2, 20, 12, 0, 0);
const TODAY = 'whk_20260320';
const SECRET = generateSharedSecret();

/**
 * A store that calls a service (no `inProcess`): holds secrets by (account, key id), counts
 * every call. `fallback` answers every account's key ids it lists (a store serving many accounts).
 */
function remoteStore(held: Record<string, Record<string, string>> = {}, fallback: Record<string, string> = {}) {
  const calls: Array<[string, string]> = [];
  const store: KeyStore = {
    getSecret(keyId, context) {
      const accountId = context?.accountId ?? '';
      calls.push([accountId, keyId]);
      return Promise.resolve(held[accountId]?.[keyId] ?? fallback[keyId]);
    },
  };
  return { store, calls };
}

function makeClock() {
  const clock = { now: START };
  return { clock, now: () => clock.now };
}

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? 'not a WebhookError';
  }
}

function count(results: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** A deterministic generator, so a run can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const accountId = (next: () => number) => `lv_${Array.from({ length: 22 }, () => ALPHABET[Math.floor(next() * ALPHABET.length)]).join('')}`;
/** A well-formed key id dated within the year before START: as plausible as an attacker can make it. */
function plausibleKeyId(next: () => number): string {
  const day = new Date(START - Math.floor(next() * 365) * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `whk_${day}_${String(1 + Math.floor(next() * 99)).padStart(2, '0')}`;
}
/** Any `whk_` + 8 digits + `_` + 2 digits, as the format allows. */
function anyKeyId(next: () => number): string {
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(next() * 10)).join('');
  return `whk_${digits(8)}_${digits(2)}`;
}

describe('a remote store: first lookups across accounts', () => {
  it('a burst of 50 accounts\' first webhooks in one second: all 200 through the Fetch handler', async () => {
    const { store, calls } = remoteStore({}, { [`${TODAY}_01`]: SECRET });
    const { now } = makeClock();
    const handler = createFetchHandler({ keyStore: store, cache: { now }, onEvent: () => undefined });
    const accounts = Array.from({ length: 50 }, (_, i) => `lv_BurstAccount${String(i).padStart(3, '0')}`);
    const responses = await Promise.all(
      accounts.map((account) =>
        handler(
          new Request('http://localhost/webhooks', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(createTestWebhook({ account_id: account, secret: SECRET, keyId: `${TODAY}_01` })),
          }),
        ),
      ),
    );
    expect(count(responses.map((r) => String(r.status)))).toEqual({ 200: 50 });
    expect(calls).toHaveLength(50);
  });

  it('200 accounts at once are all served; past the pool of 500 the store is not called (503)', async () => {
    const { store, calls } = remoteStore({}, { [`${TODAY}_01`]: SECRET });
    const { now } = makeClock();
    const receiver = createWebhookReceiver({ keyStore: store, cache: { now } });
    const send = (i: number) => outcome(receiver.receive(createTestWebhook({ account_id: `lv_Acc${i}`, secret: SECRET, keyId: `${TODAY}_01` })));
    const first = await Promise.all(Array.from({ length: 200 }, (_, i) => send(i)));
    expect(count(first)).toEqual({ ok: 200 });
    const rest = [];
    for (let i = 200; i < 600; i++) rest.push(await send(i));
    expect(count(rest)).toEqual({ ok: 300, KEY_STORE_UNAVAILABLE: 100 });
    expect(calls).toHaveLength(500);
  });

  it('one account gets at most 20 lookups a second: 20 at once, then 20 more a second later', async () => {
    const { store, calls } = remoteStore();
    const { clock, now } = makeClock();
    const cache = cachedKeyStore(store, { now });
    const ids = Array.from({ length: 60 }, (_, i) => `whk_2026${String(301 + Math.floor(i / 30)).padStart(4, '0')}_${String((i % 30) + 1).padStart(2, '0')}`);
    const lookUp = (id: string) => outcome(cache.getSecret(id, { accountId: 'lv_OneAccount' }));
    const burst = [];
    for (const id of ids.slice(0, 30)) burst.push(await lookUp(id));
    expect(count(burst)).toEqual({ ok: 20, KEY_STORE_UNAVAILABLE: 10 });
    clock.now += 1_000;
    const after = [];
    for (const id of ids.slice(30)) after.push(await lookUp(id));
    expect(count(after)).toEqual({ ok: 20, KEY_STORE_UNAVAILABLE: 10 });
    expect(calls).toHaveLength(40);
  });
});

describe('an attacker at 200 well-formed envelopes a second (injected clock)', () => {
  /**
   * Ten simulated seconds: every 5 ms an attacker envelope (a random account unless `target` is
   * given, a key id from `attackKeyId`, a random secret); every 200 ms the legitimate account's
   * first delivery of a key it has just activated. Returns the legitimate attempts' outcomes.
   */
  async function underAttack(options: { target?: string; attackKeyId: (next: () => number) => string; cache?: CachedKeyStoreOptions }) {
    const legit = 'lv_LegitimateAccount01';
    const oldKey = 'whk_20260101_01';
    const oldSecret = generateSharedSecret();
    const newKeys = Array.from({ length: 50 }, (_, i) => [`${TODAY}_${String(i + 1).padStart(2, '0')}`, generateSharedSecret()] as const);
    const { store, calls } = remoteStore({ [legit]: { [oldKey]: oldSecret, ...Object.fromEntries(newKeys) } });
    const { clock, now } = makeClock();
    const receiver = createWebhookReceiver({ keyStore: store, accounts: options.target === undefined ? undefined : [legit], cache: { now, ...options.cache } });
    // The account has authenticated webhooks before (its old key).
    expect(await outcome(receiver.receive(createTestWebhook({ account_id: legit, secret: oldSecret, keyId: oldKey })))).toBe('ok');
    const next = random(42);
    const legitimate: string[] = [];
    const attacker: string[] = [];
    for (let tick = 1; tick <= 2_000; tick++) {
      clock.now = START + tick * 5;
      const forged = createTestWebhook({ account_id: options.target ?? accountId(next), secret: generateSharedSecret(), keyId: options.attackKeyId(next) });
      attacker.push(await outcome(receiver.receive(forged)));
      if (tick % 40 === 0) {
        const [keyId, secret] = newKeys[tick / 40 - 1]!;
        legitimate.push(await outcome(receiver.receive(createTestWebhook({ account_id: legit, secret, keyId }))));
      }
    }
    return { legitimate, attacker, calls };
  }

  it('random accounts, plausible key ids: every first delivery of the legitimate account\'s new keys succeeds', async () => {
    const { legitimate, attacker, calls } = await underAttack({ attackKeyId: plausibleKeyId });
    expect(count(legitimate)).toEqual({ ok: 50 });
    // The attacker is held to the shared pool: 500 at once, then 100 a second.
    expect(attacker.filter((r) => r === 'KEY_STORE_UNAVAILABLE').length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThanOrEqual(1 + 50 + 500 + 10 * 100);
  });

  it('behind the accounts allow-list, random key ids for the legitimate account itself: its new keys still succeed', async () => {
    const { legitimate, calls } = await underAttack({ target: 'lv_LegitimateAccount01', attackKeyId: anyKeyId });
    expect(count(legitimate)).toEqual({ ok: 50 });
    expect(calls.length).toBeLessThanOrEqual(1 + 20 + 10 * 20);
  });

  it('at the legitimate account itself with key ids dated within the past year: its new keys, dated today, still succeed', async () => {
    const { legitimate, calls } = await underAttack({ target: 'lv_LegitimateAccount01', attackKeyId: plausibleKeyId });
    expect(count(legitimate)).toEqual({ ok: 50 });
    expect(calls.length).toBeLessThanOrEqual(1 + 20 + 10 * 20);
  });
});

describe('within one account, implausible key ids wait behind plausible ones', () => {
  /** Spends `n` of lv_Account's lookups on distinct plausible key ids the store does not hold. */
  async function spend(cache: KeyStore, n: number): Promise<void> {
    for (let i = 1; i <= n; i++) expect(await outcome(cache.getSecret(`whk_20260201_${String(i).padStart(2, '0')}`, { accountId: 'lv_Account' }))).toBe('ok');
  }

  it('a future-dated key id is refused (503, no store call) while a plausible one is looked up, when the bucket is short', async () => {
    const { store, calls } = remoteStore({ lv_Account: { [`${TODAY}_01`]: SECRET } });
    const { now } = makeClock();
    const cache = cachedKeyStore(store, { now });
    await spend(cache, 10); // 10 of the account's 20 left
    expect(await outcome(cache.getSecret('whk_20260323_01', { accountId: 'lv_Account' }))).toBe('KEY_STORE_UNAVAILABLE');
    expect(await outcome(cache.getSecret('whk_20261231_01', { accountId: 'lv_Account' }))).toBe('KEY_STORE_UNAVAILABLE');
    expect(await outcome(cache.getSecret('whk_20261399_01', { accountId: 'lv_Account' }))).toBe('KEY_STORE_UNAVAILABLE'); // not a date
    await expect(cache.getSecret(`${TODAY}_01`, { accountId: 'lv_Account' })).resolves.toBe(SECRET);
    expect(await outcome(cache.getSecret('whk_20260321_01', { accountId: 'lv_Account' }))).toBe('ok'); // tomorrow: within the skew
    expect(calls).toHaveLength(12);
  });

  it('a future-dated key id is looked up like any other while the bucket is full', async () => {
    const { store, calls } = remoteStore();
    const cache = cachedKeyStore(store, { now: makeClock().now });
    expect(await outcome(cache.getSecret('whk_20991231_01', { accountId: 'lv_Account' }))).toBe('ok');
    expect(calls).toHaveLength(1);
  });

  it('a key id far older than the account\'s authenticated keys waits behind plausible ones', async () => {
    const held = { lv_Account: { [`${TODAY}_01`]: SECRET, whk_20260101_01: generateSharedSecret() } };
    const { store, calls } = remoteStore(held);
    const { now } = makeClock();
    const receiver = createWebhookReceiver({ keyStore: store, cache: { now } });
    expect(await outcome(receiver.receive(createTestWebhook({ account_id: 'lv_Account', secret: SECRET, keyId: `${TODAY}_01` })))).toBe('ok');
    const forged = (keyId: string) => outcome(receiver.receive(createTestWebhook({ account_id: 'lv_Account', secret: generateSharedSecret(), keyId })));
    for (let i = 1; i <= 9; i++) expect(await forged(`whk_20260201_${String(i).padStart(2, '0')}`)).toBe('UNKNOWN_KEY'); // 10 of 20 left
    expect(await forged('whk_20230101_01')).toBe('KEY_STORE_UNAVAILABLE'); // years before the oldest key seen
    expect(await forged('whk_20250401_01')).toBe('UNKNOWN_KEY'); // within 400 days of it: plausible
    expect(calls).toHaveLength(11);
  });
});

describe('an account that authenticated a webhook has a budget of its own', () => {
  it('other accounts draining the shared pool do not stop it; an account never authenticated waits for the pool', async () => {
    const { store, calls } = remoteStore({}, { [`${TODAY}_01`]: SECRET, [`${TODAY}_02`]: SECRET });
    const { now } = makeClock();
    const receiver = createWebhookReceiver({ keyStore: store, cache: { now, lookupsPerSecond: 2, lookupBurst: 2 } });
    const send = (account: string, keyId: string) => outcome(receiver.receive(createTestWebhook({ account_id: account, secret: SECRET, keyId })));
    expect(await send('lv_Known', `${TODAY}_01`)).toBe('ok');
    expect(await send('lv_Other', `${TODAY}_01`)).toBe('ok'); // the pool is now empty
    expect(await send('lv_Stranger', `${TODAY}_01`)).toBe('KEY_STORE_UNAVAILABLE');
    expect(await send('lv_Known', `${TODAY}_02`)).toBe('ok');
    expect(calls).toHaveLength(3);
  });

  it('known accounts are bounded by maxEntries, least recently used forgotten first', async () => {
    const { store } = remoteStore({}, { [`${TODAY}_01`]: SECRET, [`${TODAY}_02`]: SECRET });
    const { now } = makeClock();
    const receiver = createWebhookReceiver({ keyStore: store, cache: { now, lookupsPerSecond: 3, lookupBurst: 3, maxEntries: 2 } });
    const send = (account: string, keyId: string) => outcome(receiver.receive(createTestWebhook({ account_id: account, secret: SECRET, keyId })));
    for (const account of ['lv_A', 'lv_B', 'lv_C']) expect(await send(account, `${TODAY}_01`)).toBe('ok'); // the pool is now empty
    expect(await send('lv_C', `${TODAY}_02`)).toBe('ok');
    expect(await send('lv_B', `${TODAY}_02`)).toBe('ok');
    expect(await send('lv_A', `${TODAY}_02`)).toBe('KEY_STORE_UNAVAILABLE'); // forgotten: back behind the pool
  });

  it('accounts not known yet are bounded by maxEntries too: an evicted one starts again with a full bucket', async () => {
    const { store } = remoteStore();
    const { now } = makeClock();
    const cache = cachedKeyStore(store, { now, maxEntries: 2 });
    const lookUp = (account: string, i: number) => outcome(cache.getSecret(`whk_20260301_${String(i).padStart(2, '0')}`, { accountId: account }));
    for (let i = 1; i <= 20; i++) expect(await lookUp('lv_X', i)).toBe('ok');
    expect(await lookUp('lv_X', 21)).toBe('KEY_STORE_UNAVAILABLE');
    expect(await lookUp('lv_Y', 1)).toBe('ok');
    expect(await lookUp('lv_Z', 1)).toBe('ok'); // lv_X's bucket is dropped
    expect(await lookUp('lv_X', 21)).toBe('ok');
  });
});

describe('in-process stores are never budgeted', () => {
  const keyId = `${TODAY}_01`;
  const stores: Array<[string, () => KeyStore]> = [
    ['memoryKeyStore', () => memoryKeyStore({ [keyId]: SECRET })],
    ['envKeyStore', () => envKeyStore({ env: { KOMPLIANT_WEBHOOK_SECRET_20260320_01: SECRET } })],
    ['chainKeyStores of both', () => chainKeyStores(memoryKeyStore({ whk_20260101_01: SECRET }), envKeyStore({ env: { KOMPLIANT_WEBHOOK_SECRET_20260320_01: SECRET } }))],
    ['a store of your own with inProcess: true', () => ({ inProcess: true, getSecret: (k: string) => Promise.resolve(k === keyId ? SECRET : undefined) })],
  ];

  it.each(stores)('%s: 2000 accounts\' first webhooks and 300 unknown key ids of one account at a frozen clock, never 503', async (_name, make) => {
    // With stats on, the store is counted beneath the cache: the count must keep it in process.
    const receiver = createWebhookReceiver({ keyStore: make(), cache: { now: makeClock().now }, stats: createWebhookStats() });
    const results = [];
    for (let i = 0; i < 2_000; i++) results.push(await outcome(receiver.receive(createTestWebhook({ account_id: `lv_Acc${i}`, secret: SECRET, keyId }))));
    const next = random(7);
    for (let i = 0; i < 300; i++) {
      const forged = createTestWebhook({ account_id: 'lv_Acc0', secret: SECRET, keyId: anyKeyId(next) });
      const result = await outcome(receiver.receive(forged));
      results.push(result === 'UNKNOWN_KEY' || result === 'DECRYPTION_FAILED' ? 'refused by key' : result);
    }
    expect(count(results)).toEqual({ ok: 2_000, 'refused by key': 300 });
  });

  it('a chain with a remote store in it is budgeted; inProcess must be a boolean', async () => {
    const { store } = remoteStore({}, { [keyId]: SECRET });
    expect(chainKeyStores(memoryKeyStore({ [keyId]: SECRET }), store).inProcess).toBeUndefined();
    expect(chainKeyStores(memoryKeyStore({ [keyId]: SECRET })).inProcess).toBe(true);
    expect(cachedKeyStore(memoryKeyStore({ [keyId]: SECRET })).inProcess).toBe(true);
    expect(cachedKeyStore(store).inProcess).toBeUndefined();
    const cache = cachedKeyStore(chainKeyStores(store, memoryKeyStore({})), { now: makeClock().now, accountLookupsPerSecond: 1 });
    expect(await outcome(cache.getSecret('whk_20260301_01', { accountId: 'lv_A' }))).toBe('ok');
    expect(await outcome(cache.getSecret('whk_20260301_02', { accountId: 'lv_A' }))).toBe('KEY_STORE_UNAVAILABLE');
    expect(() => createWebhookReceiver({ keyStore: { inProcess: 'yes', getSecret: () => Promise.resolve(undefined) } as never })).toThrow('keyStore.inProcess must be a boolean');
  });
});

describe('the edges of key-id plausibility and of the account maps', () => {
  /** `whk_<date>_NN` dated `offset` days from START. */
  const dated = (offset: number, nn = '01') => `whk_${new Date(START + offset * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '')}_${nn}`;

  it('a key id whose date is not a calendar date (years 0000-0099 included) is implausible', async () => {
    const { store, calls } = remoteStore();
    const cache = cachedKeyStore(store, { now: makeClock().now, accountLookupsPerSecond: 4 });
    const lookUp = (keyId: string) => outcome(cache.getSecret(keyId, { accountId: 'lv_Account' }));
    expect(await lookUp(`${TODAY}_01`)).toBe('ok');
    expect(await lookUp(`${TODAY}_02`)).toBe('ok'); // 2 of 4 left: implausible ids need 3
    for (const keyId of ['whk_00251121_01', 'whk_20251131_01', 'whk_20250229_01']) expect(await lookUp(keyId)).toBe('KEY_STORE_UNAVAILABLE');
    expect(await lookUp(`${TODAY}_03`)).toBe('ok');
    expect(calls).toHaveLength(3);
  });

  it('oldest and newest authenticated keys are the extremes; exactly 400 days before the oldest is still plausible', async () => {
    const held = { lv_Account: { [dated(0)]: SECRET, [dated(-100)]: SECRET, [dated(-50)]: SECRET } };
    const { store, calls } = remoteStore(held);
    const receiver = createWebhookReceiver({ keyStore: store, cache: { now: makeClock().now, accountLookupsPerSecond: 8 } });
    const send = (keyId: string, secret = SECRET) => outcome(receiver.receive(createTestWebhook({ account_id: 'lv_Account', secret, keyId })));
    for (const keyId of [dated(0), dated(-100), dated(-50)]) expect(await send(keyId)).toBe('ok'); // oldest -100, newest 0; 5 of 8 left
    const forged = (keyId: string) => send(keyId, generateSharedSecret());
    expect(await forged(dated(0, '09'))).toBe('UNKNOWN_KEY'); // 4 left: older ids need 3, implausible ones 5
    expect(await forged(dated(-500))).toBe('UNKNOWN_KEY'); // exactly 400 days before the oldest: older, not implausible
    expect(await forged(dated(0, '08'))).toBe('UNKNOWN_KEY'); // 2 left
    expect(await forged(dated(-10))).toBe('KEY_STORE_UNAVAILABLE'); // before the newest (day 0): older, needs 3
    expect(calls).toHaveLength(6);
  });

  it('a known account\'s lookups and authentications keep it recently used', async () => {
    for (const refresh of ['lookup', 'authentication'] as const) {
      const { store } = remoteStore({}, { [`${TODAY}_01`]: SECRET, [`${TODAY}_02`]: SECRET });
      const receiver = createWebhookReceiver({ keyStore: store, cache: { now: makeClock().now, lookupsPerSecond: 3, lookupBurst: 3, maxEntries: 2 } });
      const send = (account: string, keyId: string, secret = SECRET) => outcome(receiver.receive(createTestWebhook({ account_id: account, secret, keyId })));
      expect(await send('lv_A', `${TODAY}_01`)).toBe('ok');
      expect(await send('lv_B', `${TODAY}_01`)).toBe('ok'); // known: A, B; one token left in the pool
      if (refresh === 'lookup') expect(await send('lv_A', `${TODAY}_05`, generateSharedSecret())).toBe('UNKNOWN_KEY');
      else expect(await send('lv_A', `${TODAY}_01`)).toBe('ok'); // cached: no lookup, only the authentication
      expect(await send('lv_C', `${TODAY}_01`)).toBe('ok'); // the pool is empty; B, the least recently used, is forgotten
      expect(await send('lv_A', `${TODAY}_02`)).toBe('ok'); // still known: its own bucket
      expect(await send('lv_B', `${TODAY}_02`)).toBe('KEY_STORE_UNAVAILABLE');
    }
  });

  it('an account that authenticates leaves the map of accounts not known yet', async () => {
    const { store } = remoteStore({ lv_A: { [`${TODAY}_01`]: SECRET } });
    const cache = cachedKeyStore(store, { now: makeClock().now, maxEntries: 2, accountLookupsPerSecond: 1 });
    const receiver = createWebhookReceiver({ keyStore: cache });
    const lookUp = (account: string, nn: string) => outcome(cache.getSecret(`${TODAY}_${nn}`, { accountId: account }));
    expect(await lookUp('lv_U', '01')).toBe('ok'); // lv_U's bucket of 1 is spent
    expect(await outcome(receiver.receive(createTestWebhook({ account_id: 'lv_A', secret: SECRET, keyId: `${TODAY}_01` })))).toBe('ok');
    expect(await lookUp('lv_V', '01')).toBe('ok'); // not known yet: lv_U, lv_V (2 of 2)
    expect(await lookUp('lv_U', '02')).toBe('KEY_STORE_UNAVAILABLE'); // lv_U still remembered, its bucket empty
  });
});
