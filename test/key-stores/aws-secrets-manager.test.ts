import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsSecretsManagerKeyStore } from '../../src/aws.js';
import { createWebhookReceiver, isValidSharedSecret, isWebhookError, type KeyStore } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { startFakeSecretsManager, type FakeSecretsManager } from '../support/secrets-manager-server.js';
import { ABSENT, BAD_SECRET, KEY_A, KEY_B, keyStoreContract } from './contract.js';

/** The account createTestWebhook uses when none is named. */
const TEST_ACCOUNT = 'sb_TestAccount';
const asTestAccount = (store: KeyStore): KeyStore => ({ getSecret: (keyId, context) => store.getSecret(keyId, context ?? { accountId: TEST_ACCOUNT }) });

let sm: FakeSecretsManager;
beforeAll(async () => {
  sm = await startFakeSecretsManager();
});
afterAll(async () => {
  await sm.close();
});
beforeEach(() => {
  sm.calls.length = 0;
  sm.secrets.clear();
  sm.stages.clear();
  sm.errors.clear();
  sm.failAll = undefined;
  sm.hang = false;
  sm.gate = undefined;
});

const name = (keyId: string) => `kompliant/webhook/${keyId}`;
const perKey = (secrets: Record<string, string>) => {
  for (const [keyId, secret] of Object.entries(secrets)) sm.secrets.set(name(keyId), { SecretString: secret });
  return awsSecretsManagerKeyStore({ client: sm.client() });
};

keyStoreContract('awsSecretsManagerKeyStore (per-key secrets, real SDK over HTTP)', {
  holding: perKey,
  failing: () => {
    sm.failAll = { type: 'ThrottlingException', message: 'Rate exceeded' };
    return awsSecretsManagerKeyStore({ client: sm.client() });
  },
  holdingBadSecret: () => perKey({ [KEY_A]: BAD_SECRET }),
  holdingAccounts: (secrets) => {
    for (const [account, keys] of Object.entries(secrets)) {
      for (const [keyId, secret] of Object.entries(keys)) sm.secrets.set(`kompliant/webhook/${account}/${keyId}`, { SecretString: secret });
    }
    return awsSecretsManagerKeyStore({ client: sm.client(), secretId: 'kompliant/webhook/{account_id}/{key_id}' });
  },
});

keyStoreContract('awsSecretsManagerKeyStore (bundle secret, real SDK over HTTP)', {
  holding: (secrets) => {
    sm.secrets.set('kompliant/webhook-keys', { SecretString: JSON.stringify(secrets) });
    return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys' });
  },
  failing: () => {
    sm.failAll = { type: 'AccessDeniedException', message: 'not authorized to perform secretsmanager:GetSecretValue' };
    return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys' });
  },
  holdingBadSecret: () => {
    sm.secrets.set('kompliant/webhook-keys', { SecretString: JSON.stringify({ [KEY_A]: BAD_SECRET }) });
    return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys' });
  },
  holdingAccounts: (secrets) => {
    sm.secrets.set('kompliant/webhook-keys', { SecretString: JSON.stringify(secrets) });
    return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys' });
  },
});

keyStoreContract('awsSecretsManagerKeyStore (one bundle per account, real SDK over HTTP)', {
  // Called without an account, a per-account bundle store answers unknown: these stand for the
  // default test account.
  holding: (secrets) => {
    sm.secrets.set(`kompliant/webhook-keys/${TEST_ACCOUNT}`, { SecretString: JSON.stringify(secrets) });
    return asTestAccount(awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys/{account_id}' }));
  },
  failing: () => {
    sm.failAll = { type: 'AccessDeniedException', message: 'not authorized' };
    return asTestAccount(awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys/{account_id}' }));
  },
  holdingBadSecret: () => {
    sm.secrets.set(`kompliant/webhook-keys/${TEST_ACCOUNT}`, { SecretString: JSON.stringify({ [KEY_A]: BAD_SECRET }) });
    return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys/{account_id}' });
  },
  holdingAccounts: (secrets) => {
    for (const [account, keys] of Object.entries(secrets)) sm.secrets.set(`kompliant/webhook-keys/${account}`, { SecretString: JSON.stringify(keys) });
    return awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'kompliant/webhook-keys/{account_id}' });
  },
});

const hex = (secret: string | Uint8Array | undefined) =>
  secret === undefined ? undefined : Buffer.from(typeof secret === 'string' ? Buffer.from(secret, 'base64') : secret).toString('hex');

describe('awsSecretsManagerKeyStore: secret layouts', () => {
  it('sends a signed GetSecretValue for kompliant/webhook/<keyId> at AWSCURRENT', async () => {
    const secret = generateSharedSecret();
    await expect(perKey({ [KEY_A]: secret }).getSecret(KEY_A)).resolves.toBe(secret);
    expect(sm.calls).toEqual([{ secretId: name(KEY_A), versionStage: 'AWSCURRENT', authorized: true }]);
  });

  it('reads JSON SecretStrings by field (default shared_secret, configurable)', async () => {
    const secret = generateSharedSecret();
    sm.secrets.set(name(KEY_A), { SecretString: JSON.stringify({ shared_secret: secret, note: 'x' }) });
    sm.secrets.set(name(KEY_B), { SecretString: JSON.stringify({ key: secret }) });
    await expect(awsSecretsManagerKeyStore({ client: sm.client() }).getSecret(KEY_A)).resolves.toBe(secret);
    await expect(awsSecretsManagerKeyStore({ client: sm.client(), field: 'key' }).getSecret(KEY_B)).resolves.toBe(secret);
    await expect(awsSecretsManagerKeyStore({ client: sm.client() }).getSecret(KEY_B)).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('reads a 32-byte SecretBinary and refuses other lengths', async () => {
    const bytes = Buffer.from(generateSharedSecret(), 'base64');
    sm.secrets.set(name(KEY_A), { SecretBinary: bytes });
    sm.secrets.set(name(KEY_B), { SecretBinary: bytes.subarray(0, 31) });
    const store = awsSecretsManagerKeyStore({ client: sm.client() });
    expect(hex(await store.getSecret(KEY_A))).toBe(bytes.toString('hex'));
    await expect(store.getSecret(KEY_B)).rejects.toMatchObject({ code: 'INVALID_KEY', status: 500 });
  });

  it('uses a custom secretId and versionStage', async () => {
    const secret = generateSharedSecret();
    sm.stages.set('AWSPENDING', new Map([[`prod/${KEY_A}`, { SecretString: secret }]]));
    const store = awsSecretsManagerKeyStore({ client: sm.client(), secretId: (k) => `prod/${k}`, versionStage: 'AWSPENDING' });
    await expect(store.getSecret(KEY_A)).resolves.toBe(secret);
    expect(sm.calls[0]).toMatchObject({ secretId: `prod/${KEY_A}`, versionStage: 'AWSPENDING' });
  });

  it('bundle: one API call answers several key ids; a key missing from the bundle is unknown', async () => {
    const a = generateSharedSecret();
    const b = generateSharedSecret();
    sm.secrets.set('bundle', { SecretString: JSON.stringify({ [KEY_A]: a, [KEY_B]: b }) });
    const store = awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'bundle' });
    const got = await Promise.all([store.getSecret(KEY_A), store.getSecret(KEY_B), store.getSecret(ABSENT)]);
    expect(got).toEqual([a, b, undefined]);
    expect(sm.calls).toHaveLength(1);
  });

  it('bundle: a bundle that is not a JSON object is INVALID_KEY; a missing bundle means unknown keys', async () => {
    sm.secrets.set('bundle', { SecretString: 'not json' });
    await expect(awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'bundle' }).getSecret(KEY_A)).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
    await expect(awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'nope' }).getSecret(KEY_A)).resolves.toBeUndefined();
  });
});

describe('awsSecretsManagerKeyStore: errors mapped by name', () => {
  it.each([
    ['ResourceNotFoundException', "Secrets Manager can't find the specified secret."],
    ['InvalidRequestException', 'You can\'t perform this operation on the secret because it was marked for deletion.'],
  ])('%s resolves undefined (unknown key)', async (type, message) => {
    sm.errors.set(name(KEY_A), { type, message });
    await expect(awsSecretsManagerKeyStore({ client: sm.client() }).getSecret(KEY_A)).resolves.toBeUndefined();
  });

  it.each([
    ['ThrottlingException', 'Rate exceeded', 400],
    ['AccessDeniedException', 'User is not authorized', 400],
    ['DecryptionFailure', 'KMS could not decrypt the secret', 400],
    ['InvalidRequestException', 'Some other invalid request', 400],
    ['InternalServiceError', 'Internal failure', 500],
  ])('%s rejects with the SDK error kept (503 through the receiver)', async (type, message, status) => {
    sm.failAll = { type, message, status };
    const store = awsSecretsManagerKeyStore({ client: sm.client() });
    await expect(store.getSecret(KEY_A)).rejects.toMatchObject({ name: type });
    const error = await createWebhookReceiver({ keyStore: store, cache: false })
      .receive(createTestWebhook({ secret: generateSharedSecret(), keyId: KEY_A }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE', status: 503 });
    expect((error as Error).cause).toMatchObject({ name: type });
  });

  it('a network error (nothing listening) rejects', async () => {
    const client = new SecretsManagerClient({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    const error = await awsSecretsManagerKeyStore({ client }).getSecret(KEY_A).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isWebhookError(error)).toBe(false);
  });

  it('a hung endpoint rejects at timeoutMs', async () => {
    sm.hang = true;
    const error = await awsSecretsManagerKeyStore({ client: sm.client(), timeoutMs: 100 }).getSecret(KEY_A).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(sm.calls).toHaveLength(1);
  });

  it('the SDK retries a failing call itself (maxAttempts 3 -> 3 calls), then rejects', async () => {
    sm.failAll = { type: 'InternalServiceError', message: 'Internal failure', status: 500 };
    await expect(awsSecretsManagerKeyStore({ client: sm.client({ maxAttempts: 3 }) }).getSecret(KEY_A)).rejects.toMatchObject({
      name: 'InternalServiceError',
    });
    expect(sm.calls).toHaveLength(3);
  });
});

describe('awsSecretsManagerKeyStore: options', () => {
  it('client and clientConfig cannot both be given (type and runtime)', () => {
    expect(() =>
      // @ts-expect-error the options type is a union: client or clientConfig, never both
      awsSecretsManagerKeyStore({ client: sm.client(), clientConfig: { region: 'us-east-1' } }),
    ).toThrow(TypeError);
  });

  it('bundleSecretId cannot be combined with per-key options', () => {
    // @ts-expect-error bundle mode has no secretId
    expect(() => awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'b', secretId: (k: string) => k })).toThrow(TypeError);
  });

  it.each([[{ versionStage: '' }], [{ timeoutMs: 0 }], [{ region: 'us-east-1' }], [{ field: 3 }]])('refuses %j', (options) => {
    expect(() => awsSecretsManagerKeyStore(options as never)).toThrow(TypeError);
  });

  it('builds its own client from clientConfig', async () => {
    const secret = generateSharedSecret();
    sm.secrets.set(name(KEY_A), { SecretString: secret });
    const store = awsSecretsManagerKeyStore({
      clientConfig: {
        endpoint: sm.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'x' },
      },
    });
    await expect(store.getSecret(KEY_A)).resolves.toBe(secret);
  });
});

const livePrefix = process.env.KOMPLIANT_TEST_AWS_SECRET_PREFIX;
const hasCredentials =
  process.env.AWS_ACCESS_KEY_ID !== undefined || process.env.AWS_PROFILE !== undefined || process.env.AWS_WEB_IDENTITY_TOKEN_FILE !== undefined;

describe.skipIf(livePrefix === undefined || !hasCredentials)(
  'live AWS Secrets Manager (skipped unless KOMPLIANT_TEST_AWS_SECRET_PREFIX and AWS credentials are set)',
  () => {
    it('reads <prefix>whk_20000101_01 (create it with a valid secret) and answers an absent id as undefined', async () => {
      const store = awsSecretsManagerKeyStore({ secretId: (keyId) => `${livePrefix}${keyId}` });
      expect(isValidSharedSecret(await store.getSecret('whk_20000101_01'))).toBe(true);
      await expect(store.getSecret('whk_19990101_99')).resolves.toBeUndefined();
    });
  },
);

describe('awsSecretsManagerKeyStore: accounts, region and the lookup signal', () => {
  it('a {account_id}/{key_id} template reads each account\'s own secret; without an account it makes no call', async () => {
    const a = generateSharedSecret();
    sm.secrets.set(`live/lv_A/${KEY_A}`, { SecretString: `${a}\n` });
    const store = awsSecretsManagerKeyStore({ client: sm.client(), secretId: 'live/{account_id}/{key_id}' });
    expect(hex(await store.getSecret(KEY_A, { accountId: 'lv_A' }))).toBe(hex(a));
    await expect(store.getSecret(KEY_A)).resolves.toBeUndefined();
    expect(sm.calls.map((c) => c.secretId)).toEqual([`live/lv_A/${KEY_A}`]);
    expect(() => awsSecretsManagerKeyStore({ client: sm.client(), secretId: 'no-key-id/{account_id}' as never })).toThrow(/\{key_id\}/);
  });

  it('a bundle keyed by account answers each account; a bundle mixing both forms is INVALID_KEY', async () => {
    const a = generateSharedSecret();
    const b = generateSharedSecret();
    sm.secrets.set('bundle', { SecretString: JSON.stringify({ lv_A: { [KEY_A]: a }, sb_B: { [KEY_A]: b } }) });
    const store = awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'bundle' });
    expect(hex(await store.getSecret(KEY_A, { accountId: 'lv_A' }))).toBe(hex(a));
    expect(hex(await store.getSecret(KEY_A, { accountId: 'sb_B' }))).toBe(hex(b));
    await expect(store.getSecret(KEY_A, { accountId: 'lv_C' })).resolves.toBeUndefined();
    expect(sm.calls).toHaveLength(1);
    sm.secrets.set('mixed', { SecretString: JSON.stringify({ lv_A: { [KEY_A]: a }, [KEY_B]: b }) });
    await expect(awsSecretsManagerKeyStore({ client: sm.client(), bundleSecretId: 'mixed' }).getSecret(KEY_B)).rejects.toMatchObject({ code: 'INVALID_KEY' });
  });

  it('forwards the receiver\'s signal to the SDK as abortSignal: an aborted lookup rejects at once', async () => {
    sm.hang = true;
    try {
      const store = awsSecretsManagerKeyStore({ client: sm.client(), timeoutMs: 60_000 });
      const controller = new AbortController();
      const calls = sm.calls.length;
      const pending = store.getSecret(KEY_A, { accountId: 'lv_A', signal: controller.signal });
      await vi.waitFor(() => expect(sm.calls).toHaveLength(calls + 1)); // the lookup reached the service
      controller.abort(new Error('receiver stopped waiting'));
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
    } finally {
      sm.hang = false;
    }
  });

  it('resolves the region at construction: none anywhere is a TypeError naming AWS_REGION and clientConfig.region', () => {
    const saved = { AWS_REGION: process.env.AWS_REGION, AWS_CONFIG_FILE: process.env.AWS_CONFIG_FILE };
    delete process.env.AWS_REGION;
    process.env.AWS_CONFIG_FILE = 'test/fixtures/no-such-aws-config';
    try {
      expect(() => awsSecretsManagerKeyStore()).toThrow(/AWS_REGION[\s\S]*clientConfig: \{ region/);
      expect(() => awsSecretsManagerKeyStore({ clientConfig: { region: 'eu-west-1' } })).not.toThrow();
      process.env.AWS_REGION = 'eu-west-1';
      expect(() => awsSecretsManagerKeyStore()).not.toThrow();
    } finally {
      for (const [variable, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[variable];
        else process.env[variable] = value;
      }
    }
  });
});
