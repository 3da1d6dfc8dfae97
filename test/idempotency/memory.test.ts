import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryIdempotencyStore } from '../../src/index.js';

/**
 * The memory store's documented semantics written as plainly as possible: a claim holds until
 * completed or released (no lease lapses in-process) and is never evicted; done ids in completion
 * order; when full, every expired done id goes, then the oldest done ids until there is room.
 */
function referenceStore(max: number, now: () => number) {
  const claims = new Map<string, string>();
  let done: { id: string; expiresAt: number }[] = [];
  const isDone = (id: string) => {
    done = done.filter((e) => e.id !== id || e.expiresAt > now());
    return done.some((e) => e.id === id);
  };
  return {
    claim(id: string, token: string): string {
      if (claims.has(id)) return 'in_progress';
      if (isDone(id)) return 'done';
      if (claims.size + done.length >= max) done = done.filter((e) => e.expiresAt > now());
      while (claims.size + done.length >= max && done.length > 0) done.shift();
      claims.set(id, token);
      return 'claimed';
    },
    complete(id: string, token: string, ttlMs: number): void {
      if (claims.get(id) !== token) return;
      claims.delete(id);
      done.push({ id, expiresAt: now() + ttlMs });
    },
    release(id: string, token: string): void {
      if (claims.get(id) === token) claims.delete(id);
    },
  };
}

const id = fc.integer({ min: 0, max: 9 }).map((n) => `evt_${n}`);
const token = fc.constantFrom('t1', 't2', 't3');
// Now and then a jump of days and a TTL of days, so the store's re-basing of its stored
// expiries (every 2^28 ms, about 3.1 days) runs inside the property.
const days = fc.integer({ min: 2 ** 26, max: 2 ** 29 });
const step = fc.oneof(
  fc.record({ op: fc.constant('claim' as const), id, token, ms: fc.integer({ min: 1, max: 60 }) }),
  fc.record({
    op: fc.constant('complete' as const),
    id,
    token,
    ms: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1, max: 200 }) }, { weight: 1, arbitrary: days }),
  }),
  fc.record({ op: fc.constant('release' as const), id, token, ms: fc.constant(0) }),
  fc.record({
    op: fc.constant('tick' as const),
    id,
    token,
    ms: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 50 }) }, { weight: 1, arbitrary: days }),
  }),
);

describe('memoryIdempotencyStore when full', () => {
  it('never evicts an id in progress: a duplicate of it is still in_progress after the store filled up', async () => {
    const store = memoryIdempotencyStore({ max: 2 });
    expect(await store.claim('a', 'ta', 60_000)).toBe('claimed');
    expect(await store.claim('b', 'tb', 60_000)).toBe('claimed');
    expect(await store.claim('c', 'tc', 60_000)).toBe('claimed'); // full of claims: the store grows by one
    expect(await store.claim('a', 'ta2', 60_000)).toBe('in_progress');
    expect(await store.claim('b', 'tb2', 60_000)).toBe('in_progress');
    await store.complete('a', 'ta', 60_000);
    expect(await store.claim('a', 'x', 60_000)).toBe('done');
  });

  it('evicts done ids oldest first, never a claim, and remembers the last max ids', async () => {
    const store = memoryIdempotencyStore({ max: 3 });
    expect(await store.claim('held', 't', 60_000)).toBe('claimed');
    for (const doneId of ['d1', 'd2', 'd3', 'd4']) {
      await store.claim(doneId, 't', 60_000);
      await store.complete(doneId, 't', 60_000);
    }
    // 3 slots: the claim and the two newest done ids.
    expect(await store.claim('held', 'x', 60_000)).toBe('in_progress');
    expect(await store.claim('d4', 'x', 60_000)).toBe('done');
    expect(await store.claim('d3', 'x', 60_000)).toBe('done');
    expect(await store.claim('d1', 'x', 60_000)).toBe('claimed');
  });
});

describe('memoryIdempotencyStore when full, after a sweep', () => {
  it('still sweeps the next expired id before it evicts a live one (the earliest expiry is kept right)', async () => {
    let time = 0;
    const store = memoryIdempotencyStore({ max: 4, now: () => time });
    const done = async (key: string, ttlMs: number) => {
      expect(await store.claim(key, 't', 60_000)).toBe('claimed');
      await store.complete(key, 't', ttlMs);
    };
    // Done in this order: A (expires at 10), P (1000), Q (20), R (500).
    await done('A', 10);
    await done('P', 1000);
    await done('Q', 20);
    await done('R', 500);
    time = 15; // full: the sweep drops A, and must note Q's 20 as the next expiry, not R's 500
    await done('D', 10_000);
    time = 25; // full again: Q has expired, so it goes, not P, the oldest live id
    expect(await store.claim('E', 't', 60_000)).toBe('claimed');
    expect(await store.claim('P', 't', 60_000)).toBe('done');
    expect(await store.claim('Q', 't', 60_000)).toBe('claimed');
  });
});

describe('memoryIdempotencyStore over days', () => {
  it('forgets every done id exactly at its TTL while the clock runs weeks past the store start', async () => {
    const day = 24 * 3_600_000;
    const ttl = 9 * day;
    let time = 1_700_000_000_000;
    const store = memoryIdempotencyStore({ max: 100, now: () => time });
    const completedAt = new Map<string, number>();
    const probeAll = async (): Promise<void> => {
      for (const [doneId, at] of completedAt) {
        const answer = await store.claim(doneId, 'probe', 60_000);
        expect([doneId, answer]).toEqual([doneId, time < at + ttl ? 'done' : 'claimed']);
        if (answer === 'claimed') {
          await store.release(doneId, 'probe');
          completedAt.delete(doneId);
        }
      }
    };
    // One id a day for 40 days, each kept 9 days: ids done before the store moves its base time
    // (every 2^28 ms, about 3.1 days) must expire at the same millisecond as those done after.
    for (let n = 0; n < 40; n++) {
      const doneId = `evt_${n}`;
      expect(await store.claim(doneId, 't', 60_000)).toBe('claimed');
      await store.complete(doneId, 't', ttl);
      completedAt.set(doneId, time);
      time += day - 1;
      await probeAll();
      time += 1;
      await probeAll();
    }
    expect(completedAt.size).toBe(8); // days 32 to 39
  });
});

describe('memoryIdempotencyStore against its reference semantics', () => {
  it('answers every claim like the plain model (claims held until settled, done ids expire, eviction of expired then oldest done ids, tokens)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(step, { minLength: 10, maxLength: 150, size: 'max' }), async (max, steps) => {
        let time = 0;
        const now = (): number => time;
        const store = memoryIdempotencyStore({ max, now });
        const model = referenceStore(max, now);
        for (const s of steps) {
          if (s.op === 'tick') time += s.ms;
          else if (s.op === 'claim') expect(await store.claim(s.id, s.token, s.ms)).toBe(model.claim(s.id, s.token));
          else if (s.op === 'complete') {
            await store.complete(s.id, s.token, s.ms);
            model.complete(s.id, s.token, s.ms);
          } else {
            await store.release(s.id, s.token);
            model.release(s.id, s.token);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('memoryIdempotencyStore.inProcess', () => {
  it('is true, and not copied by a spread (a copy may replace a method with one that waits)', () => {
    const store = memoryIdempotencyStore();
    expect(store.inProcess).toBe(true);
    expect({ ...store }.inProcess).toBeUndefined();
  });
});

describe('memoryIdempotencyStore options', () => {
  it('refuses options that are not an object with a TypeError saying so', () => {
    for (const options of [null, 'max=5', 5, true]) {
      expect(() => memoryIdempotencyStore(options as never), String(options)).toThrowError(
        new TypeError('memoryIdempotencyStore options must be an object'),
      );
    }
  });

  it('refuses a now that is not a function, and a max that is not a positive integer', () => {
    expect(() => memoryIdempotencyStore({ now: 1_700_000_000_000 as never })).toThrowError(new TypeError('now must be a function'));
    expect(() => memoryIdempotencyStore({ max: 0 })).toThrowError(new TypeError('max must be a positive integer'));
  });
});
