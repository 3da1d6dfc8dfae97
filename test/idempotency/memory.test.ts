import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryIdempotencyStore } from '../../src/index.js';

/**
 * The memory store's documented semantics written as plainly as possible: entries in insertion
 * order; when full, every expired entry goes, then the oldest until there is room.
 */
function referenceStore(max: number, now: () => number) {
  let entries: { id: string; done: boolean; token: string; expiresAt: number }[] = [];
  const live = (id: string) => {
    const entry = entries.find((e) => e.id === id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries = entries.filter((e) => e !== entry);
      return undefined;
    }
    return entry;
  };
  return {
    claim(id: string, token: string, leaseMs: number): string {
      const entry = live(id);
      if (entry !== undefined) return entry.done ? 'done' : 'in_progress';
      if (entries.length >= max) entries = entries.filter((e) => e.expiresAt > now());
      while (entries.length >= max) entries.shift();
      entries.push({ id, done: false, token, expiresAt: now() + leaseMs });
      return 'claimed';
    },
    complete(id: string, token: string, ttlMs: number): void {
      const entry = live(id);
      if (entry === undefined || entry.done || entry.token !== token) return;
      entries = entries.filter((e) => e !== entry);
      entries.push({ id, done: true, token, expiresAt: now() + ttlMs });
    },
    release(id: string, token: string): void {
      const entry = live(id);
      if (entry !== undefined && !entry.done && entry.token === token) entries = entries.filter((e) => e !== entry);
    },
  };
}

const id = fc.integer({ min: 0, max: 9 }).map((n) => `evt_${n}`);
const token = fc.constantFrom('t1', 't2', 't3');
const step = fc.oneof(
  fc.record({ op: fc.constant('claim' as const), id, token, ms: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ op: fc.constant('complete' as const), id, token, ms: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ op: fc.constant('release' as const), id, token, ms: fc.constant(0) }),
  fc.record({ op: fc.constant('tick' as const), id, token, ms: fc.integer({ min: 0, max: 50 }) }),
);

describe('memoryIdempotencyStore against its reference semantics', () => {
  it('answers every claim like the plain model (expiry, eviction of expired then oldest, tokens)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 5 }), fc.array(step, { minLength: 10, maxLength: 150, size: 'max' }), async (max, steps) => {
        let time = 0;
        const now = (): number => time;
        const store = memoryIdempotencyStore({ max, now });
        const model = referenceStore(max, now);
        for (const s of steps) {
          if (s.op === 'tick') time += s.ms;
          else if (s.op === 'claim') expect(await store.claim(s.id, s.token, s.ms)).toBe(model.claim(s.id, s.token, s.ms));
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
