// The IdempotencyStore contract suite: every store (memory, Redis, PostgreSQL, DynamoDB) runs these same cases.
import { randomUUID } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { createWebhookReceiver, isWebhookError, memoryKeyStore, type IdempotencyStore, type WebhookReceiver } from '../../src/index.js';
import { createTestWebhook } from '../../src/testing.js';
import { KEY_ID, SECRET } from '../support/app.js';
import { leaseWitness, until } from '../support/poll.js';

/** A store under test. */
export interface StoreSubject {
  /** A store over the shared server; ids in every case are fresh, so one namespace serves all. */
  create(): IdempotencyStore;
  /**
   * Stops the store's server for the fault test, which runs last. Absent for a store without a
   * server (memory).
   */
  stopServer?: () => Promise<void>;
  /**
   * True for a store whose claims never lapse while the process lives (the memory store: the
   * holder is this process, alive as long as the store). The case of a lease lapsing under a
   * holder does not apply to it.
   */
  claimsHeldWhileAlive?: boolean;
}

const LONG = 60_000;
const DAY = 24 * 3600 * 1000;
const freshId = (): string => `wh_${randomUUID().replaceAll('-', '')}`;
/** A bound well above every lease in these cases: a lease that has not lapsed by then is a failure. */
const LAPSE_WITHIN_MS = 15_000;

/** Two receivers (two instances of an app) sharing `store`. */
function twoReceivers(store: IdempotencyStore, options: { idempotencyLeaseMs?: number } = {}): WebhookReceiver[] {
  return [0, 1].map(() => createWebhookReceiver({ keyStore: memoryKeyStore({ [KEY_ID]: SECRET }), idempotency: store, ...options }));
}

/**
 * Registers the contract cases for one store under `describe(name)`. Renewal cases, and the
 * case of a completion after a lapsed lease (part of the same contract revision), skip at run
 * time for a store without `renew`, and run as soon as it has one.
 */
export function describeStoreContract(name: string, subject: StoreSubject): void {
  describe(`IdempotencyStore contract: ${name}`, () => {
    it('claims a free id once; another token then sees it in progress', async () => {
      const store = subject.create();
      const id = freshId();
      expect(await store.claim(id, 't1', LONG)).toBe('claimed');
      expect(await store.claim(id, 't2', LONG)).toBe('in_progress');
      expect(await store.claim(id, 't1', LONG)).toBe('in_progress');
    });

    it('complete by the holder makes the id done', async () => {
      const store = subject.create();
      const id = freshId();
      await store.claim(id, 't1', LONG);
      await store.complete(id, 't1', DAY);
      expect(await store.claim(id, 't2', LONG)).toBe('done');
      expect(await store.claim(id, 't3', LONG)).toBe('done');
    });

    it('complete and release by a token that does not hold the claim are ignored', async () => {
      const store = subject.create();
      const id = freshId();
      await store.claim(id, 't1', LONG);
      await store.complete(id, 'other', DAY);
      expect(await store.claim(id, 't2', LONG)).toBe('in_progress');
      await store.release(id, 'other');
      expect(await store.claim(id, 't2', LONG)).toBe('in_progress');
    });

    it('release by the holder frees the id for a retry; release after done changes nothing', async () => {
      const store = subject.create();
      const id = freshId();
      await store.claim(id, 't1', LONG);
      await store.release(id, 't1');
      expect(await store.claim(id, 't2', LONG)).toBe('claimed');
      await store.complete(id, 't2', DAY);
      await store.release(id, 't2');
      expect(await store.claim(id, 't3', LONG)).toBe('done');
    });

    it.skipIf(subject.claimsHeldWhileAlive === true)('an expired lease can be claimed again, and the old token then completes nothing', async () => {
      const store = subject.create();
      const id = freshId();
      expect(await store.claim(id, 't1', 150)).toBe('claimed');
      await vi.waitFor(async () => expect(await store.claim(id, 't2', LONG)).toBe('claimed'), { timeout: 10_000, interval: 50 });
      await store.complete(id, 't1', DAY); // lapsed, and t2 claimed since: ignored
      await store.release(id, 't1');
      expect(await store.claim(id, 't3', LONG)).toBe('in_progress');
      await store.complete(id, 't2', DAY);
      expect(await store.claim(id, 't3', LONG)).toBe('done');
    });

    it('a done id is forgotten after its ttl', async () => {
      const store = subject.create();
      const id = freshId();
      await store.claim(id, 't1', LONG);
      await store.complete(id, 't1', 150);
      await vi.waitFor(async () => expect(await store.claim(id, 't2', LONG)).toBe('claimed'), { timeout: 10_000, interval: 50 });
    });

    it('complete after a lapsed lease is recorded when nobody claimed the id since', async (context) => {
      const store = subject.create();
      if (store.renew === undefined) context.skip();
      const id = freshId();
      await store.claim(id, 't1', 100);
      const lapsed = await leaseWitness(store, 100); // claimed after t1: lapses no earlier than t1's lease
      await until(lapsed, Boolean, LAPSE_WITHIN_MS);
      await store.complete(id, 't1', DAY);
      expect(await store.claim(id, 't2', LONG)).toBe('done');
    });

    it('renew extends the lease of the holder only', async (context) => {
      const store = subject.create();
      if (store.renew === undefined) context.skip();
      const id = freshId();
      await store.claim(id, 't1', 1_000);
      const firstLeaseLapsed = await leaseWitness(store, 1_000); // claimed after t1's first lease
      expect(await store.renew!(id, 't1', LONG)).toBe(true);
      expect(await store.renew!(id, 'other', LONG)).toBe(false);
      await until(firstLeaseLapsed, Boolean, LAPSE_WITHIN_MS); // past the first lease on the store's clock
      expect(await store.claim(id, 't2', LONG)).toBe('in_progress'); // the renewed one holds
      await store.complete(id, 't1', DAY);
      expect(await store.renew!(id, 't1', LONG)).toBe(false); // done: nothing to renew
      expect(await store.claim(id, 't2', LONG)).toBe('done');
    });

    it('renew answers false once another delivery claimed the lapsed id', async (context) => {
      const store = subject.create();
      if (store.renew === undefined) context.skip();
      const id = freshId();
      await store.claim(id, 't1', 100);
      await vi.waitFor(async () => expect(await store.claim(id, 't2', LONG)).toBe('claimed'), { timeout: 10_000, interval: 50 });
      expect(await store.renew!(id, 't1', LONG)).toBe(false);
      expect(await store.renew!(id, 't2', LONG)).toBe(true);
    });

    it('20 concurrent claims of one id: exactly one is claimed', async () => {
      const store = subject.create();
      const id = freshId();
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.claim(id, `t${i}`, LONG)));
      expect(results.filter((r) => r === 'claimed')).toHaveLength(1);
      expect(results.filter((r) => r === 'in_progress')).toHaveLength(19);
    });

    it('ids of any length and alphabet are kept apart', async () => {
      const store = subject.create();
      const base = freshId();
      const ids = [`${base}${'x'.repeat(90)}`, `${base}-A`, `${base}-a`, `${base}_é✓`];
      for (const id of ids) expect(await store.claim(id, 't', LONG)).toBe('claimed');
      for (const id of ids) expect(await store.claim(id, 'u', LONG)).toBe('in_progress');
    });

    it('two receivers sharing the store: 50 concurrent deliveries of 5 ids run the handler exactly 5 times', async () => {
      const receivers = twoReceivers(subject.create());
      const ids = Array.from({ length: 5 }, freshId);
      const runs = new Map<string, number>();
      // The handlers hold until every delivery is either in a handler or answered, so all 50 overlap.
      let answered = 0;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const openWhenAllArrived = (): void => {
        if ([...runs.values()].reduce((a, b) => a + b, 0) + answered >= 50) open();
      };
      const handler = async (event: { id: string }): Promise<void> => {
        runs.set(event.id, (runs.get(event.id) ?? 0) + 1);
        openWhenAllArrived();
        await gate;
      };
      const outcomes = await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          const body = createTestWebhook({ secret: SECRET, keyId: KEY_ID, id: ids[i % 5]!, retry_count: i });
          return receivers[i % 2]!.handle(body, handler)
            .then(
              (r) => (r.duplicate ? 'duplicate' : 'handled'),
              (error: unknown) => (isWebhookError(error) ? error.code : 'other'),
            )
            .finally(() => {
              answered++;
              openWhenAllArrived();
            });
        }),
      );
      const count = (what: string): number => outcomes.filter((o) => o === what).length;
      console.info(
        `${name}: two receivers, 50 concurrent deliveries of 5 ids: handler runs ${[...runs.values()].reduce((a, b) => a + b, 0)}, ` +
          `per id ${ids.map((id) => runs.get(id) ?? 0).join(',')}; ${count('handled')} handled, ${count('DUPLICATE_IN_PROGRESS')} x 409, ${count('duplicate')} x 200 duplicate`,
      );
      expect(ids.map((id) => runs.get(id))).toEqual([1, 1, 1, 1, 1]);
      expect(count('handled')).toBe(5);
      expect(count('DUPLICATE_IN_PROGRESS') + count('duplicate')).toBe(45);
      for (const [i, id] of ids.entries()) {
        const again = await receivers[i % 2]!.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID, id }), handler);
        expect(again.duplicate).toBe(true);
      }
      expect([...runs.values()]).toEqual([1, 1, 1, 1, 1]);
    });

    it.skipIf(subject.stopServer === undefined)(
      'fault: the server stops mid-burst: no delivery is answered 200 unless its handler completed; every failure is a 5xx',
      { timeout: 60_000 },
      async () => {
        const receivers = twoReceivers(subject.create());
        const completed = new Set<string>();
        const started = new Set<string>();
        let open!: () => void;
        const gate = new Promise<void>((resolve) => (open = resolve));
        const handler = async (event: { id: string }): Promise<void> => {
          started.add(event.id);
          await gate;
          completed.add(event.id);
        };
        const deliver = (i: number) => {
          const id = freshId();
          return receivers[i % 2]!.handle(createTestWebhook({ secret: SECRET, keyId: KEY_ID, id }), handler).then(
            (result) => ({ id, ok: true as const, duplicate: result.duplicate }),
            (error: unknown) => ({ id, ok: false as const, status: isWebhookError(error) ? error.status : 0 }),
          );
        };
        // Wave 1 is in its handlers when the server stops; wave 2 is on its way to the store as it
        // stops; wave 3 arrives while it is down.
        const wave1 = Array.from({ length: 10 }, (_, i) => deliver(i));
        await vi.waitFor(() => expect(started.size).toBe(10), { timeout: 20_000, interval: 10 });
        const wave2 = Array.from({ length: 10 }, (_, i) => deliver(i));
        await subject.stopServer!();
        const wave3 = Array.from({ length: 10 }, (_, i) => deliver(i));
        const early = await Promise.all(wave3);
        open();
        const results = [...(await Promise.all(wave1)), ...(await Promise.all(wave2)), ...early];
        const answered200 = results.filter((r) => r.ok);
        const failed = results.filter((r) => !r.ok);
        console.info(`${name}: server stopped mid-burst: ${answered200.length} x 200, ${failed.length} x 5xx (statuses ${[...new Set(failed.map((r) => r.status))].join(',')})`);
        for (const r of answered200) expect(completed.has(r.id), `200 for ${r.id} whose handler did not complete`).toBe(true);
        for (const r of failed) expect(r.status).toBeGreaterThanOrEqual(500);
        expect(early.every((r) => !r.ok)).toBe(true);
        expect(results.slice(0, 10).every((r) => r.ok)).toBe(true); // wave 1's handlers completed
      },
    );
  });
}
