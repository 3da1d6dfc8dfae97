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
  holdingBadSecret: () => envKeyStore({ env: { [variable(KEY_A)]: BAD_SECRET } }),
});

keyStoreContract('envKeyStore (JSON variable)', {
  holding: (secrets) => envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: JSON.stringify(secrets) } }),
  failing: () => envKeyStore({ env: brokenEnv() }),
  holdingBadSecret: () => envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: JSON.stringify({ [KEY_A]: BAD_SECRET }) } }),
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
    const store = envKeyStore({ env: { KOMPLIANT_WEBHOOK_KEYS: '{"__proto__": {"whk_20251121_99": "x"}}' } });
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
