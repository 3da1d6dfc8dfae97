// Fault injection on key lookups: a store that hangs (then recovers, or only after the first lookup); every wait ends at keyStoreTimeoutMs.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, type KeyStore, type EnvelopeOptions } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { KEY_A } from './contract.js';

const ACCOUNT = 'lv_FaultTestAccount';
const secret = generateSharedSecret();
const webhook = () => createTestWebhook({ secret, keyId: KEY_A, account_id: ACCOUNT });

/** A store that answers, or hangs (never settles) while `hanging` is set; it records every call's signal. */
function hangableStore() {
  const signals: Array<AbortSignal | undefined> = [];
  const state = { hanging: false };
  const store: KeyStore = {
    getSecret(_keyId, context) {
      signals.push(context?.signal);
      if (state.hanging) return new Promise(() => undefined);
      return Promise.resolve(secret);
    },
  };
  return { store, signals, state };
}

/** The outcome of a receive: 'ok', the error code, or 'still waiting' when it has not settled yet. */
async function outcomeNow(pending: Promise<string>): Promise<string> {
  // setImmediate is not faked below: this lets every settled promise run first.
  return Promise.race([pending, new Promise<string>((resolve) => setImmediate(() => resolve('still waiting')))]);
}

function track(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (error as { code?: string }).code ?? 'not a WebhookError',
  );
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe.each([
  ['the default cache', {}],
  ['cache: false', { cache: false }],
] as Array<[string, Partial<EnvelopeOptions>]>)('a key store that hangs, with %s', (_name, extra) => {
  it('hangs then recovers: the waiting request gets 503 at the deadline (5 s), its signal is aborted, and the next request asks again', async () => {
    const { store, signals, state } = hangableStore();
    const receiver = createWebhookReceiver({ keyStore: store, ...extra });
    state.hanging = true;
    const first = track(receiver.receive(webhook()));
    const second = track(receiver.receive(webhook()));
    await vi.advanceTimersByTimeAsync(4_999);
    expect(await outcomeNow(first)).toBe('still waiting');
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcomeNow(first)).toBe('KEY_STORE_UNAVAILABLE');
    expect(await outcomeNow(second)).toBe('KEY_STORE_UNAVAILABLE');
    expect(signals[0]?.aborted).toBe(true);
    state.hanging = false;
    expect(await outcomeNow(track(receiver.receive(webhook())))).toBe('ok');
    expect(signals.length).toBeGreaterThanOrEqual(2);
  });

  it('keyStoreTimeoutMs sets the deadline', async () => {
    const { store, state } = hangableStore();
    const receiver = createWebhookReceiver({ keyStore: store, keyStoreTimeoutMs: 250, ...extra });
    state.hanging = true;
    const first = track(receiver.receive(webhook()));
    await vi.advanceTimersByTimeAsync(249);
    expect(await outcomeNow(first)).toBe('still waiting');
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcomeNow(first)).toBe('KEY_STORE_UNAVAILABLE');
  });
});

describe('a key store that hangs only after the first lookup (stale-while-revalidate)', () => {
  it('a known key past its TTL is served at once while one background refresh runs; the hung refresh times out and is retried later', async () => {
    const { store, signals, state } = hangableStore();
    const receiver = createWebhookReceiver({ keyStore: store, cache: { ttlMs: 60_000, ttlJitter: 0 } });
    expect(await outcomeNow(track(receiver.receive(webhook())))).toBe('ok');
    expect(signals).toHaveLength(1);
    state.hanging = true;
    await vi.advanceTimersByTimeAsync(60_000);
    const results = await Promise.all(Array.from({ length: 5 }, () => outcomeNow(track(receiver.receive(webhook())))));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(signals).toHaveLength(2); // one background refresh for five requests
    await vi.advanceTimersByTimeAsync(5_000);
    expect(signals[1]?.aborted).toBe(true);
    expect(await outcomeNow(track(receiver.receive(webhook())))).toBe('ok');
    expect(signals).toHaveLength(2); // errorRetryMs (10 s) before asking again
    await vi.advanceTimersByTimeAsync(10_000);
    state.hanging = false;
    expect(await outcomeNow(track(receiver.receive(webhook())))).toBe('ok');
    expect(signals).toHaveLength(3);
  });

  it('a key never seen waits for the store (and gets 503 at the deadline), while a known one does not', async () => {
    const { store, state } = hangableStore();
    const receiver = createWebhookReceiver({ keyStore: store });
    expect(await outcomeNow(track(receiver.receive(webhook())))).toBe('ok');
    state.hanging = true;
    const unseen = track(receiver.receive(createTestWebhook({ secret, keyId: 'whk_20251121_02', account_id: ACCOUNT })));
    expect(await outcomeNow(track(receiver.receive(webhook())))).toBe('ok');
    expect(await outcomeNow(unseen)).toBe('still waiting');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await outcomeNow(unseen)).toBe('KEY_STORE_UNAVAILABLE');
  });

  it('retries after a timeout stay under the lookup budget', async () => {
    let calls = 0;
    const store: KeyStore = {
      getSecret() {
        calls++;
        return new Promise(() => undefined);
      },
    };
    const receiver = createWebhookReceiver({ keyStore: store, keyStoreTimeoutMs: 100, cache: { accountLookupsPerSecond: 2, now: () => Date.UTC(2026, 0, 1) } });
    const results: string[] = [];
    for (let i = 0; i < 6; i++) {
      const pending = track(receiver.receive(webhook()));
      await vi.advanceTimersByTimeAsync(100);
      results.push(await outcomeNow(pending));
    }
    expect(new Set(results)).toEqual(new Set(['KEY_STORE_UNAVAILABLE']));
    expect(calls).toBe(2); // the burst of 2; the clock is frozen, so no token comes back
  });
});

describe('an inProcess key store', () => {
  it('is asked directly: no cache in front, no deadline timer and no signal (it promises never to wait)', async () => {
    const { store, signals } = hangableStore();
    const receiver = createWebhookReceiver({ keyStore: { ...store, inProcess: true } });
    expect(await track(receiver.receive(webhook()))).toBe('ok');
    expect(await track(receiver.receive(webhook()))).toBe('ok');
    expect(signals).toEqual([undefined, undefined]);
  });
});
