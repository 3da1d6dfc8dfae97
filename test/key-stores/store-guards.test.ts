// The edges of the built-in stores: what envKeyStore's start-up scan checks and skips, option messages, memoryKeyStore's and chainKeyStores' refusals.
import { describe, expect, it } from 'vitest';
import { chainKeyStores, envKeyStore, memoryKeyStore, WebhookError, type KeyStore } from '../../src/index.js';
import { generateSharedSecret } from '../../src/testing.js';
import { KEY_A } from './contract.js';

const SECRET = generateSharedSecret();
const VALID_ENV = { KOMPLIANT_WEBHOOK_SECRET_20251121_02: SECRET };

describe('envKeyStore options', () => {
  it('options, prefix, jsonVariable and env are checked, each named in its message', () => {
    for (const options of [null, 'KOMPLIANT_', 5]) {
      expect(() => envKeyStore(options as never)).toThrow('envKeyStore: options must be an object');
    }
    expect(() => envKeyStore({ prefx: 'A_', env: VALID_ENV } as never)).toThrow('envKeyStore: unknown option "prefx"');
    for (const prefix of ['1KOMPLIANT_', 'KOMPLIANT-']) {
      expect(() => envKeyStore({ prefix, env: VALID_ENV })).toThrow('envKeyStore: prefix must be an environment variable name');
    }
    expect(() => envKeyStore({ jsonVariable: 'KEYS.json', env: VALID_ENV })).toThrow('envKeyStore: jsonVariable must be an environment variable name');
    for (const env of ['KOMPLIANT_WEBHOOK_SECRET_20251121_02', 5]) {
      expect(() => envKeyStore({ env: env as never })).toThrow('envKeyStore: env must be an object');
    }
  });

  it('a prefix without a trailing underscore works: KWS20251121_01', async () => {
    const store = envKeyStore({ prefix: 'KWS', jsonVariable: false, env: { KWS20251121_01: SECRET } });
    await expect(store.getSecret(KEY_A, { accountId: 'lv_A' })).resolves.toBe(SECRET);
  });
});

describe('envKeyStore start-up scan: only the store\'s own variables are checked', () => {
  it('a whitespace-only variable counts as unset, at start-up and at lookup', async () => {
    const store = envKeyStore({ env: { ...VALID_ENV, KOMPLIANT_WEBHOOK_SECRET_20251121_01: '  \n', KOMPLIANT_WEBHOOK_KEYS: ' ' } });
    await expect(store.getSecret(KEY_A, { accountId: 'lv_A' })).resolves.toBeUndefined();
  });

  it('another application\'s variable, and one whose account part is no account id, are skipped (never read at lookup)', () => {
    const env = {
      ...VALID_ENV,
      OTHER_SERVICE_SECRET_KEY_20251121_01: 'hunter2', // as long as the prefix: its tail reads as a key id
      'KOMPLIANT_WEBHOOK_SECRET_lv.A_20251121_01': 'not a secret',
    };
    expect(() => envKeyStore({ env })).not.toThrow();
  });
});

describe('memoryKeyStore refusals', () => {
  it('secrets that are not an object are refused with what is expected', () => {
    for (const secrets of [null, 'whk_20251121_01=abc', 5]) {
      expect(() => memoryKeyStore(secrets as never)).toThrow('memoryKeyStore expects a record or Map of key_id -> secret');
    }
  });

  it('a long bad key id is quoted by its first 64 characters; a null secret is called null', () => {
    const long = `whk_${'9'.repeat(200)}`;
    expect(() => memoryKeyStore({ [long]: SECRET })).toThrow(`memoryKeyStore: key id ${JSON.stringify(long.slice(0, 64))} is not of the form whk_YYYYMMDD_NN`);
    expect(() => memoryKeyStore({ [KEY_A]: null as never })).toThrow(`memoryKeyStore: the secret for ${KEY_A} is null (is the environment variable you read it from set?)`);
  });

  it('the nested form is in process too (never budgeted)', () => {
    expect(memoryKeyStore({ lv_A: { [KEY_A]: SECRET } }).inProcess).toBe(true);
    expect(memoryKeyStore({ [KEY_A]: SECRET }).inProcess).toBe(true);
  });
});

describe('chainKeyStores edges', () => {
  const holding = memoryKeyStore({ [KEY_A]: SECRET });

  it('no stores: refused with a message that says so', () => {
    expect(() => chainKeyStores()).toThrow('chainKeyStores needs at least one key store');
  });

  it('a store that answers null, or fails with a WebhookError other than INVALID_KEY, does not stop the chain', async () => {
    const nulls: KeyStore = { getSecret: () => Promise.resolve(null as never) };
    const busy: KeyStore = { getSecret: () => Promise.reject(new WebhookError('KEY_STORE_UNAVAILABLE', { message: 'budget spent' })) };
    await expect(chainKeyStores(nulls, holding).getSecret(KEY_A)).resolves.toBe(SECRET);
    await expect(chainKeyStores(busy, holding).getSecret(KEY_A)).resolves.toBe(SECRET);
  });

  it('every store failed: the AggregateError says how many', async () => {
    const down: KeyStore = { getSecret: () => Promise.reject(new Error('down')) };
    await expect(chainKeyStores(down, down).getSecret(KEY_A)).rejects.toThrow('chainKeyStores: all 2 key stores failed');
  });
});
