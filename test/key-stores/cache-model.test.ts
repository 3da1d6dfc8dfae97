// Model-based test of the key cache: any sequence of lookups and store changes over two accounts sharing key ids.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cachedKeyStore, type KeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';

const ACCOUNTS = ['lv_AccountA', 'sb_AccountB'] as const;
const KEY_IDS = ['whk_20251121_01', 'whk_20251121_02'] as const;
const SECRETS = Array.from({ length: 4 }, () => generateSharedSecret());
const NEGATIVE_TTL_MS = 1_000;

/** What the cache must answer: the store's value at the pair's last lookup, per (account, key id). */
interface Model {
  backing: Map<string, string>;
  /** Cached answers: a secret, or null for "unknown until `until`". */
  cached: Map<string, { secret: string | null; until: number }>;
  expectedCalls: string[];
  clock: number;
}

interface Real {
  cache: KeyStore;
  backing: Map<string, string>;
  calls: string[];
  clock: { now: number };
}

const pair = (accountId: string, keyId: string) => `${accountId} ${keyId}`;

class Lookup implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly accountId: string,
    readonly keyId: string,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const p = pair(this.accountId, this.keyId);
    const hit = m.cached.get(p);
    let expected: string | undefined;
    if (hit !== undefined && (hit.secret !== null || m.clock < hit.until)) expected = hit.secret ?? undefined;
    else {
      expected = m.backing.get(p);
      m.expectedCalls.push(p);
      m.cached.set(p, { secret: expected ?? null, until: m.clock + NEGATIVE_TTL_MS });
    }
    const got = await r.cache.getSecret(this.keyId, { accountId: this.accountId });
    expect(got).toBe(expected);
    expect(r.calls).toEqual(m.expectedCalls);
  }
  toString = () => `lookup(${this.accountId}, ${this.keyId})`;
}

class Put implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly accountId: string,
    readonly keyId: string,
    readonly secret: string | undefined,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const p = pair(this.accountId, this.keyId);
    for (const map of [m.backing, r.backing]) {
      if (this.secret === undefined) map.delete(p);
      else map.set(p, this.secret);
    }
  }
  toString = () => `put(${this.accountId}, ${this.keyId}, ${this.secret === undefined ? 'deleted' : SECRETS.indexOf(this.secret)})`;
}

class Advance implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    m.clock += this.ms;
    r.clock.now += this.ms;
  }
  toString = () => `advance(${this.ms})`;
}

const account = fc.constantFrom(...ACCOUNTS);
const keyId = fc.constantFrom(...KEY_IDS);
const commands = [
  fc.tuple(account, keyId).map(([a, k]) => new Lookup(a, k)),
  fc.tuple(account, keyId, fc.option(fc.constantFrom(...SECRETS), { nil: undefined })).map(([a, k, s]) => new Put(a, k, s)),
  fc.integer({ min: 1, max: 2 * NEGATIVE_TTL_MS }).map((ms) => new Advance(ms)),
];

describe('cachedKeyStore against a model keyed by (account id, key id)', () => {
  it('answers each pair with its own account\'s secret, asks the store once per pair (then after the negative TTL), never across accounts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 60 }), async (cmds) => {
        const backing = new Map<string, string>();
        const calls: string[] = [];
        const clock = { now: 0 };
        const store: KeyStore = {
          getSecret(k, context) {
            const p = pair(context?.accountId ?? '', k);
            calls.push(p);
            return Promise.resolve(backing.get(p));
          },
        };
        const cache = cachedKeyStore(store, { now: () => clock.now, ttlMs: 60 * 60 * 1000, negativeTtlMs: NEGATIVE_TTL_MS, lookupsPerSecond: 1_000 });
        const model: Model = { backing: new Map(), cached: new Map(), expectedCalls: [], clock: 0 };
        await fc.asyncModelRun(() => ({ model, real: { cache, backing, calls, clock } }), cmds);
      }),
      { numRuns: 200 },
    );
  });
});
