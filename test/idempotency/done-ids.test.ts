import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DoneIds, seededIdHash, type IdHash } from '../../src/idempotency/done-ids.js';

/** DoneIds written as plainly as possible: an array in insertion order. */
function referenceDoneIds() {
  let entries: { id: string; expiresAt: number }[] = [];
  return {
    get size() {
      return entries.length;
    },
    expiryOf: (id: string) => entries.find((e) => e.id === id)?.expiresAt,
    delete(id: string) {
      entries = entries.filter((e) => e.id !== id);
    },
    add(id: string, expiresAt: number) {
      entries = entries.filter((e) => e.id !== id);
      entries.push({ id, expiresAt });
    },
    deleteOldest() {
      return entries.shift() !== undefined;
    },
    deleteExpired(time: number) {
      entries = entries.filter((e) => e.expiresAt > time);
      return Math.min(Number.POSITIVE_INFINITY, ...entries.map((e) => e.expiresAt));
    },
  };
}

// Hashes that make ids collide, so long probe runs and the shifts that close them are exercised:
// every id the same hash; two hashes; hashes that differ only above the table's mask.
const hashes: Record<string, IdHash> = {
  seeded: seededIdHash(),
  constant: () => 7,
  parity: (id) => id.length % 2,
  highBitsOnly: (id) => (id.charCodeAt(id.length - 1) << 24) | 0,
};

const id = fc.integer({ min: 0, max: 60 }).map((n) => `evt_${n}`);
const step = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('add' as const), id, at: fc.integer({ min: 0, max: 100 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('expiryOf' as const), id, at: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), id, at: fc.constant(0) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteOldest' as const), id, at: fc.constant(0) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('deleteExpired' as const), id, at: fc.integer({ min: 0, max: 100 }) }) },
);

describe('DoneIds against a plain array', () => {
  for (const [name, hash] of Object.entries(hashes)) {
    it(`answers like the array for every sequence of calls (hash: ${name})`, () => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 400 }), (steps) => {
          const ids = new DoneIds(hash);
          const model = referenceDoneIds();
          for (const s of steps) {
            if (s.op === 'add') {
              ids.add(s.id, s.at);
              model.add(s.id, s.at);
            } else if (s.op === 'expiryOf') expect(ids.expiryOf(s.id)).toBe(model.expiryOf(s.id));
            else if (s.op === 'delete') {
              ids.delete(s.id);
              model.delete(s.id);
            } else if (s.op === 'deleteOldest') expect(ids.deleteOldest()).toBe(model.deleteOldest());
            else expect(ids.deleteExpired(s.at)).toBe(model.deleteExpired(s.at));
            expect(ids.size).toBe(model.size);
          }
          // Every id the model holds is found, with its expiry; the oldest come out in order.
          for (let n = 0; n <= 60; n++) expect(ids.expiryOf(`evt_${n}`)).toBe(model.expiryOf(`evt_${n}`));
          while (model.size > 0) {
            expect(ids.deleteOldest()).toBe(true);
            model.deleteOldest();
            for (let n = 0; n <= 60; n++) expect(ids.expiryOf(`evt_${n}`)).toBe(model.expiryOf(`evt_${n}`));
          }
          expect(ids.deleteOldest()).toBe(false);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('keeps 100 000 ids through growth, finds each, and forgets them oldest first', () => {
    const ids = new DoneIds();
    for (let n = 0; n < 100_000; n++) ids.add(`wh_${n}`, n);
    expect(ids.size).toBe(100_000);
    for (let n = 0; n < 100_000; n += 997) expect(ids.expiryOf(`wh_${n}`)).toBe(n);
    expect(ids.expiryOf('wh_100000')).toBeUndefined();
    for (let n = 0; n < 50_000; n++) ids.deleteOldest();
    expect(ids.expiryOf('wh_49999')).toBeUndefined();
    expect(ids.expiryOf('wh_50000')).toBe(50_000);
    expect(ids.deleteExpired(74_999)).toBe(75_000);
    expect(ids.size).toBe(25_000);
  });

  it('does not grow without bound when ids are deleted from the middle (holes are packed)', () => {
    const ids = new DoneIds();
    // One id that stays at the head while 200 000 others come and go behind it.
    ids.add('keeper', Number.POSITIVE_INFINITY);
    for (let n = 0; n < 200_000; n++) {
      ids.add(`wh_${n}`, n);
      if (n >= 10) ids.delete(`wh_${n - 10}`);
    }
    expect(ids.size).toBe(11);
    // The ring would hold 200 001 positions without packing; a generous bound shows it stayed small.
    expect((ids as unknown as { ids: unknown[] }).ids.length).toBeLessThanOrEqual(64);
    expect(ids.expiryOf('keeper')).toBe(Number.POSITIVE_INFINITY);
    expect(ids.expiryOf('wh_199999')).toBe(199_999);
  });

  it('hashes the same id alike within a store, and from a different start in another', () => {
    const first = seededIdHash();
    expect(first('wh_2K9mPxR7N4jL8hS6TdWfY3')).toBe(first('wh_2K9mPxR7N4jL8hS6TdWfY3'));
    const starts = new Set(Array.from({ length: 20 }, () => seededIdHash()('wh_2K9mPxR7N4jL8hS6TdWfY3')));
    expect(starts.size).toBeGreaterThan(1);
  });
});
