import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, memoryIdempotencyStore, memoryKeyStore, type IdempotencyStore } from '../../src/index.js';
import { inProcessForm, registerInProcessForm } from '../../src/idempotency/in-process.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';

describe('in-process idempotency stores', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('the memory store has a synchronous form whose answers are its own; a store built elsewhere has none', async () => {
    const store = memoryIdempotencyStore();
    const form = inProcessForm(store);
    expect(form).toBeDefined();
    expect(form?.claim('a', 't1')).toBe('claimed');
    expect(await store.claim('a', 't2', 1000)).toBe('in_progress');
    form?.complete('a', 't1', 60_000);
    expect(await store.claim('a', 't3', 1000)).toBe('done');
    await store.claim('b', 't4', 1000);
    form?.release('b', 't5'); // another token: no effect
    expect(form?.claim('b', 't6')).toBe('in_progress');
    await store.release('b', 't4');
    expect(form?.claim('b', 't7')).toBe('claimed');

    const wrapped: IdempotencyStore = { claim: (...a) => store.claim(...a), complete: (...a) => store.complete(...a), release: (...a) => store.release(...a) };
    expect(inProcessForm(wrapped)).toBeUndefined();
    expect(registerInProcessForm(wrapped, form!)).toBe(wrapped);
    expect(inProcessForm(wrapped)).toBe(form);
  });

  it('a delivery through the memory store arms no timer and calls none of its promise methods; a wrapped store gets a deadline on each call', async () => {
    const envelope = () => createTestWebhook({ secret: SECRET, keyId: KEY_ID });
    const keyStore = memoryKeyStore({ [KEY_ID]: SECRET });
    const store = memoryIdempotencyStore();
    const claim = vi.spyOn(store, 'claim');
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
    expect(claim).not.toHaveBeenCalled();

    const wrapped: IdempotencyStore = { claim: (...a) => store.claim(...a), complete: (...a) => store.complete(...a), release: (...a) => store.release(...a) };
    const viaWrapper = createWebhookReceiver({ keyStore, idempotency: wrapped, logger: false });
    await viaWrapper.handle(envelope(), () => undefined); // warms this receiver's key cache
    setTimer.mockClear();
    await expect(viaWrapper.handle(envelope(), () => undefined)).resolves.toMatchObject({ duplicate: false });
    expect(setTimer).toHaveBeenCalledTimes(2); // claim and complete, each under idempotencyTimeoutMs
  });
});
