import { describe, expect, it } from 'vitest';
import { createWebhookReceiver, envKeyStore } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { ABSENT, BAD_SECRET, KEY_A, KEY_B, keyStoreContract } from './contract.js';

const variable = (keyId: string) => `KOMPLIANT_WEBHOOK_SECRET_${keyId.slice(4)}`;

/** An environment whose reads fail, like a secrets sidecar that is not mounted yet. */
function brokenEnv(): Record<string, string | undefined> {
  return new Proxy({}, {
    get() {
      throw new Error('secrets volume not mounted');
    },
    ownKeys() {
      throw new Error('secrets volume not mounted');
    },
  });
}

keyStoreContract('envKeyStore (one variable per key)', {
  holding: (secrets) => envKeyStore({ env: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [variable(k), v])) }),
  failing: () => envKeyStore({ env: brokenEnv() }),
  holdingBadSecret: { construction: () => envKeyStore({ env: { [variable(KEY_A)]: BAD_SECRET } }) },
  holdingAccounts: (secrets) =>
    envKeyStore({
      env: Object.fromEntries(
        Object.entries(secrets).flatMap(([account, keys]) => Object.entries(keys).map(([k, v]) => [`KOMPLIANT_WEBHOOK_SECRET_${account}_${k.slice(4)}`, v])),
      ),
    }),
});

keyStoreContract('envKeyStore (JSON variable)', {
  holding: (secrets) => envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: JSON.stringify(secrets) } }),
  failing: () => envKeyStore({ env: brokenEnv() }),
  holdingBadSecret: { construction: () => envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [KEY_A]: BAD_SECRET }) } }) },
  holdingAccounts: (secrets) => envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: JSON.stringify(secrets) } }),
});

describe('envKeyStore', () => {
  it('reads at lookup time: a variable set later is picked up', async () => {
    const env: Record<string, string | undefined> = { [variable(KEY_B)]: generateSharedSecret() };
    const store = envKeyStore({ env });
    await expect(store.getSecret(KEY_A)).resolves.toBeUndefined();
    const secret = generateSharedSecret();
    env[variable(KEY_A)] = secret;
    await expect(store.getSecret(KEY_A)).resolves.toBe(secret);
  });

  it('behind a receiver too: a key whose variable appears after a 401 works on the next delivery', async () => {
    const env: Record<string, string | undefined> = { [variable(KEY_B)]: generateSharedSecret() };
    const receiver = createWebhookReceiver({ keyStore: envKeyStore({ env }), logger: false });
    const secret = generateSharedSecret();
    const webhook = createTestWebhook({ secret, keyId: KEY_A });
    await expect(receiver.receive(webhook)).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    env[variable(KEY_A)] = secret;
    await expect(receiver.receive(webhook)).resolves.toMatchObject({ id: webhook.id });
  });

  it('reads process.env by default', async () => {
    const secret = generateSharedSecret();
    process.env[variable('whk_20000101_42')] = secret;
    try {
      await expect(envKeyStore().getSecret('whk_20000101_42')).resolves.toBe(secret);
    } finally {
      delete process.env[variable('whk_20000101_42')];
    }
  });

  it('the per-key variable wins over the JSON variable; surrounding whitespace is trimmed', async () => {
    const single = generateSharedSecret();
    const fromJson = generateSharedSecret();
    const other = generateSharedSecret();
    const store = envKeyStore({
      env: { [variable(KEY_A)]: ` ${single}\n`, KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [KEY_A]: fromJson, [KEY_B]: other }) },
    });
    await expect(store.getSecret(KEY_A)).resolves.toBe(single);
    await expect(store.getSecret(KEY_B)).resolves.toBe(other);
  });

  it('honours prefix and jsonVariable, and jsonVariable: false', async () => {
    const secret = generateSharedSecret();
    const env = { HOOK_20251121_01: secret, KEYS: JSON.stringify({ [KEY_B]: secret }), KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [KEY_B]: secret }) };
    await expect(envKeyStore({ env, prefix: 'HOOK_' }).getSecret(KEY_A)).resolves.toBe(secret);
    await expect(envKeyStore({ env, jsonVariable: 'KEYS' }).getSecret(KEY_B)).resolves.toBe(secret);
    await expect(envKeyStore({ env: { ...env, [variable(KEY_A)]: secret }, jsonVariable: false }).getSecret(KEY_B)).resolves.toBeUndefined();
    expect(() => envKeyStore({ env, jsonVariable: false })).toThrow(/no webhook secret found/);
  });

  it('a JSON variable that is not a JSON object: a TypeError at start-up, INVALID_KEY if it breaks later, naming the variable, not its content', async () => {
    const secret = generateSharedSecret();
    const broken = `{"${KEY_A}": "${secret}"`;
    let thrown: unknown;
    try {
      envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: broken } });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toContain('KOMPLIANT_WEBHOOK_KEYS');
    expect((thrown as Error).message).not.toContain(secret);
    const env: Record<string, string> = { KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [KEY_B]: secret }) };
    const store = envKeyStore({ env });
    env.KOMPLIANT_WEBHOOK_KEYS = broken;
    const error = await store.getSecret(KEY_A).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_KEY', status: 500 });
    expect((error as Error).message).toContain('KOMPLIANT_WEBHOOK_KEYS');
    expect((error as Error).message).not.toContain(secret);
  });

  it('inherited names are not keys: __proto__ and friends in the JSON resolve undefined', async () => {
    const store = envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: `{"__proto__": {"whk_20251121_99": "${generateSharedSecret()}"}}` } });
    await expect(store.getSecret(ABSENT)).resolves.toBeUndefined();
    await expect(store.getSecret('__proto__')).resolves.toBeUndefined();
    await expect(store.getSecret('constructor')).resolves.toBeUndefined();
  });

  it('never reads a variable for a malformed key id', async () => {
    const read: string[] = [];
    const env = new Proxy({ [variable(KEY_A)]: generateSharedSecret() } as Record<string, string | undefined>, {
      get(target, name) {
        read.push(String(name));
        return target[name as string];
      },
    });
    const store = envKeyStore({ env });
    read.length = 0; // the start-up scan read the environment once
    for (const keyId of ['../x', 'whk_1_01', 'PATH', 'whk_20251121_01 ']) await expect(store.getSecret(keyId)).resolves.toBeUndefined();
    expect(read).toEqual([]);
  });

  it('the receiver decrypts with a secret from the environment (default cache on)', async () => {
    const secret = generateSharedSecret();
    const receiver = createWebhookReceiver({ keyStore: envKeyStore({ env: { [variable(KEY_A)]: secret } }) });
    await expect(receiver.receive(createTestWebhook({ secret, keyId: KEY_A }))).resolves.toMatchObject({ key_id: KEY_A });
  });

  it.each([[{ prefix: 'bad prefix' }], [{ jsonVariable: '' }], [{ env: 'x' }], [{ envs: {} }]])('refuses %j', (options) => {
    expect(() => envKeyStore(options as never)).toThrow(TypeError);
  });
});

describe('envKeyStore: accounts and start-up checks', () => {
  it('the account\'s own variable first, then the account in the JSON variable, then the flat names', async () => {
    const own = generateSharedSecret();
    const json = generateSharedSecret();
    const flat = generateSharedSecret();
    const store = envKeyStore({
      env: {
        [`KOMPLIANT_WEBHOOK_SECRET_lv_A_${KEY_A.slice(4)}`]: own,
        KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ sb_B: { [KEY_A]: json } }),
        [variable(KEY_A)]: flat,
      },
    });
    await expect(store.getSecret(KEY_A, { accountId: 'lv_A' })).resolves.toBe(own);
    await expect(store.getSecret(KEY_A, { accountId: 'sb_B' })).resolves.toBe(json);
    await expect(store.getSecret(KEY_A, { accountId: 'lv_Other' })).resolves.toBe(flat);
    await expect(store.getSecret(KEY_A)).resolves.toBe(flat);
  });

  it('no secret in the environment: a TypeError at construction naming the variables looked for', () => {
    expect(() => envKeyStore({ env: {} })).toThrow(
      /looked for KOMPLIANT_WEBHOOK_SECRET_<YYYYMMDD_NN>, KOMPLIANT_WEBHOOK_SECRET_<account_id>_<YYYYMMDD_NN>, KOMPLIANT_WEBHOOK_KEYS/,
    );
  });

  it('the quick start\'s KOMPLIANT_WEBHOOK_SECRET alone: the error says its name carries no key id, never its value', () => {
    const secret = generateSharedSecret();
    let thrown: unknown;
    try {
      envKeyStore({ env: { KOMPLIANT_WEBHOOK_SECRET: secret } });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(/KOMPLIANT_WEBHOOK_SECRET is set, but its name carries no key id: rename it KOMPLIANT_WEBHOOK_SECRET_<YYYYMMDD_NN>/);
    expect((thrown as Error).message).not.toContain(secret);
  });
});

/** What `envKeyStore` throws for `env`, which must make it throw. */
function constructionError(env: Record<string, string>): Error {
  try {
    envKeyStore({ env });
  } catch (error) {
    return error as Error;
  }
  throw new Error('envKeyStore accepted the environment');
}

describe('envKeyStore: every secret checked at start-up', () => {
  // 16 bytes: a 128-bit key pasted where the 256-bit shared secret belongs.
  const short = Buffer.alloc(16, 0x5a).toString('base64');

  it('a 16-byte secret in a per-key variable: a TypeError naming the variable, never the value', () => {
    const error = constructionError({ [variable(KEY_B)]: generateSharedSecret(), [variable(KEY_A)]: short });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      `envKeyStore: ${variable(KEY_A)} is base64 of 16 bytes; a shared secret is base64 of exactly 32 bytes (the shared_secret of webhook.key.create, as issued)`,
    );
    expect(error.message).not.toContain(short);
    expect(String(error.stack)).not.toContain(short);
  });

  it('an account\'s variable, and entries of the JSON variable (flat and by account), are checked too', () => {
    const scoped = constructionError({ [`KOMPLIANT_WEBHOOK_SECRET_lv_A_${KEY_A.slice(4)}`]: 'not base64!' });
    expect(scoped).toBeInstanceOf(TypeError);
    expect(scoped.message).toMatch(/^envKeyStore: KOMPLIANT_WEBHOOK_SECRET_lv_A_20251121_01 is not base64; /);
    const flat = constructionError({ KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [KEY_B]: generateSharedSecret(), [KEY_A]: short }) });
    expect(flat.message).toMatch(/^envKeyStore: KOMPLIANT_WEBHOOK_KEYS\["whk_20251121_01"\] is base64 of 16 bytes; /);
    const byAccount = constructionError({ KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ lv_A: { [KEY_A]: 42 } }) });
    expect(byAccount.message).toMatch(/^envKeyStore: KOMPLIANT_WEBHOOK_KEYS\["lv_A"\]\["whk_20251121_01"\] is not a string; /);
    for (const error of [scoped, flat, byAccount]) {
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).not.toContain(short);
    }
    // A misplaced value used as a name is not echoed either.
    const misplaced = constructionError({ KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [short]: short }) });
    expect(misplaced.message).toMatch(/^envKeyStore: KOMPLIANT_WEBHOOK_KEYS\[<an entry>\] is base64 of 16 bytes; /);
    expect(misplaced.message).not.toContain(short);
  });

  it('surrounding whitespace is trimmed before the check, as at lookup', async () => {
    const secret = generateSharedSecret();
    await expect(envKeyStore({ env: { [variable(KEY_A)]: `  ${secret}\n` } }).getSecret(KEY_A)).resolves.toBe(secret);
  });

  it('a value that goes bad after start-up rejects its lookup with INVALID_KEY, the value in no message', async () => {
    const env: Record<string, string> = { [variable(KEY_A)]: generateSharedSecret() };
    const store = envKeyStore({ env });
    env[variable(KEY_A)] = short;
    const error = await store.getSecret(KEY_A).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_KEY', status: 500 });
    expect((error as Error).message).not.toContain(short);
  });
});

describe('envKeyStore.describe: the variables a lookup reads', () => {
  const store = envKeyStore({ env: { [variable(KEY_B)]: generateSharedSecret() } });

  it('names, in lookup order, the account\'s variable, its JSON entry, the flat variable and the flat JSON entry', () => {
    expect(store.describe?.(KEY_A, { accountId: 'lv_Mine' })).toBe(
      'envKeyStore read KOMPLIANT_WEBHOOK_SECRET_lv_Mine_20251121_01, KOMPLIANT_WEBHOOK_KEYS["lv_Mine"]["whk_20251121_01"], ' +
        'KOMPLIANT_WEBHOOK_SECRET_20251121_01, KOMPLIANT_WEBHOOK_KEYS["whk_20251121_01"]',
    );
  });

  it('follows prefix and jsonVariable: false', () => {
    const custom = envKeyStore({ env: { HOOK_20251121_02: generateSharedSecret() }, prefix: 'HOOK_', jsonVariable: false });
    expect(custom.describe?.(KEY_A, { accountId: 'lv_Mine' })).toBe('envKeyStore read HOOK_lv_Mine_20251121_01, HOOK_20251121_01');
  });
});
