import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKompliantApiError, type WebhookKeyStatus } from '../../src/client.js';
import { startEmulatorWithClient } from '../support/emulator.js';

type Op = { kind: 'create' } | { kind: 'activate'; pick: number } | { kind: 'get'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.constant<Op>({ kind: 'create' }),
  fc.nat(20).map<Op>((pick) => ({ kind: 'activate', pick })),
  fc.nat(20).map<Op>((pick) => ({ kind: 'get', pick })),
);

describe('emulator key lifecycle against a model (fast-check, client over HTTP)', () => {
  it('numbering, statuses INACTIVE -> ACTIVE -> DELETED, refusals, and exactly one ACTIVE key after any activation', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 14 }), async (ops) => {
        const { client, emulator, account } = await startEmulatorWithClient();
        try {
          const model = new Map<string, WebhookKeyStatus>();
          const ids: string[] = [];
          for (const o of ops) {
            if (o.kind === 'create') {
              const key = await client.createKey({ accountId: account.accountId });
              expect(key.key_id).toMatch(new RegExp(`_${String(ids.length + 1).padStart(2, '0')}$`));
              ids.push(key.key_id);
              model.set(key.key_id, 'INACTIVE');
              continue;
            }
            if (ids.length === 0) continue;
            const keyId = ids[o.pick % ids.length]!;
            if (o.kind === 'get') {
              expect((await client.getKey({ keyId })).status).toBe(model.get(keyId));
              continue;
            }
            const expected = model.get(keyId);
            try {
              await client.activateKey({ keyId });
              expect(expected).toBe('INACTIVE');
              for (const [id, status] of model) if (status === 'ACTIVE') model.set(id, 'DELETED');
              model.set(keyId, 'ACTIVE');
            } catch (error) {
              if (!isKompliantApiError(error)) throw error;
              expect(error.subCode).toBe(expected === 'ACTIVE' ? 'KEY_ALREADY_ACTIVE' : 'KEY_DELETED');
            }
          }
          const actual = new Map(emulator.keys(account.accountId).map((k) => [k.keyId, k.status]));
          expect(actual).toEqual(model);
          const activeCount = [...actual.values()].filter((s) => s === 'ACTIVE').length;
          expect(activeCount).toBe([...actual.values()].some((s) => s !== 'INACTIVE') ? 1 : 0);
        } finally {
          await emulator.close();
        }
      }),
      { numRuns: 25 },
    );
  }, 30_000);
});
