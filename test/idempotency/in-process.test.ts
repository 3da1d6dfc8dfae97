import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, memoryIdempotencyStore, memoryKeyStore, type IdempotencyStore } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';

describe('idempotency stores that never wait (inProcess)', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('the memory store says it never waits; a store of your own may say so too, and a bad value is refused', () => {
    expect(memoryIdempotencyStore().inProcess).toBe(true);
    const store = memoryIdempotencyStore();
    const wrapped = { claim: store.claim, complete: store.complete, release: store.release, inProcess: 'yes' } as unknown as IdempotencyStore;
    expect(() => createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: wrapped })).toThrow(/idempotency\.inProcess must be a boolean/);
  });

  it('a delivery through a store with inProcess arms no timer; the same store without it gets a deadline on each call', async () => {
    const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
    const store = memoryIdempotencyStore();
    const receiver = createWebhookReceiver({ keyStore, idempotency: store, logger: false });
    const first = envelope();
    await receiver.handle(first, () => undefined); // warms the key cache
    const setTimer = vi.spyOn(globalThis, 'setTimeout');
    const handled: string[] = [];
    const second = envelope();
    await expect(receiver.handle(second, (e) => void handled.push(e.id))).resolves.toMatchObject({ duplicate: false });
    await expect(receiver.handle(second, (e) => void handled.push(e.id))).resolves.toMatchObject({ duplicate: true });
    expect(handled).toEqual([second.id]);
    expect(setTimer).not.toHaveBeenCalled();

    // A store of the user's own that declares inProcess takes the same path as ours.
    const own: IdempotencyStore = { inProcess: true, claim: (...a) => store.claim(...a), complete: (...a) => store.complete(...a), release: (...a) => store.release(...a) };
    const viaOwn = createWebhookReceiver({ keyStore, idempotency: own, logger: false });
    await viaOwn.handle(envelope(), () => undefined); // warms this receiver's key cache
    setTimer.mockClear();
    await expect(viaOwn.handle(envelope(), () => undefined)).resolves.toMatchObject({ duplicate: false });
    expect(setTimer).not.toHaveBeenCalled();

    const wrapped: IdempotencyStore = { claim: (...a) => store.claim(...a), complete: (...a) => store.complete(...a), release: (...a) => store.release(...a) };
    const viaWrapper = createWebhookReceiver({ keyStore, idempotency: wrapped, logger: false });
    await viaWrapper.handle(envelope(), () => undefined);
    setTimer.mockClear();
    await expect(viaWrapper.handle(envelope(), () => undefined)).resolves.toMatchObject({ duplicate: false });
    expect(setTimer).toHaveBeenCalledTimes(2); // claim and complete, each under idempotencyTimeoutMs
  });
});
