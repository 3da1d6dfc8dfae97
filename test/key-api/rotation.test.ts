import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { envFileSink, rotateWebhookKey, RotationError, stdoutSink, type SecretSink } from '../../src/client.js';
import { MAX_KEYS_PER_DAY } from '../../src/emulator.js';
import { awsSecretsManagerKeyStore, awsSecretsManagerSink } from '../../src/aws.js';
import { generateSharedSecret } from '../../src/testing.js';
import { startEmulatorWithClient, type EmulatorFixture } from '../support/emulator.js';
import { startFakeSecretsManager } from '../support/secrets-manager-server.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

function tempEnvPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'kw-rotate-')), 'receiver.env');
}

/** An emulator whose account already has an ACTIVE key, as in production before a rotation. */
async function withActiveKey(clientOptions = {}): Promise<EmulatorFixture & { activeKeyId: string }> {
  const f = await startEmulatorWithClient({}, { retries: 0, ...clientOptions });
  running.push(f.emulator);
  const key = await f.client.createKey({ accountId: f.account.accountId });
  await f.client.activateKey({ keyId: key.key_id });
  return { ...f, activeKeyId: key.key_id };
}

async function rotationError(promise: Promise<unknown>): Promise<RotationError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RotationError) return error;
    throw error;
  }
  throw new Error('expected a RotationError');
}

describe('rotateWebhookKey', () => {
  it('creates, stores (env file, 0600), reads back, verifies, activates, and reports the previous key', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    const path = tempEnvPath();
    const steps: string[] = [];
    const result = await rotateWebhookKey({
      client,
      accountId: account.accountId,
      sink: envFileSink({ path }),
      previousKeyId: activeKeyId,
      onStep: (step) => steps.push(step),
    });
    expect(steps).toEqual(['check-previous', 'create', 'store', 'verify', 'activate']);
    expect(result).toMatchObject({ previousKeyId: activeKeyId, sink: 'env-file' });
    expect(emulator.activeKeyId(account.accountId)).toBe(result.keyId);
    expect((await client.getKey({ keyId: activeKeyId })).status).toBe('DELETED');
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(new RegExp(`^KOMPLIANT_WEBHOOK_SECRET_${account.accountId}_${result.keyId.slice(4)}=[A-Za-z0-9+/]{43}=\\n$`));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('fails at check-previous when the given previous key is not ACTIVE, creating nothing', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    const inactive = await client.createKey({ accountId: account.accountId });
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink: envFileSink({ path: tempEnvPath() }), previousKeyId: inactive.key_id }));
    expect(error.step).toBe('check-previous');
    expect(emulator.keys(account.accountId)).toHaveLength(2);
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
  });

  it('fails at create (daily limit) with a hint, active key unchanged', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    for (let i = 1; i < MAX_KEYS_PER_DAY; i++) await client.createKey({ accountId: account.accountId });
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink: envFileSink({ path: tempEnvPath() }) }));
    expect(error).toMatchObject({ step: 'create', keyId: undefined });
    expect(error.message).toMatch(/daily key limit.*00:00 UTC/);
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
  });

  it('fails at store when the sink cannot write, leaving the new key INACTIVE and the active key unchanged', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    const sink = envFileSink({ path: join(tempEnvPath(), 'no-such-dir', 'x.env') });
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink }));
    expect(error.step).toBe('store');
    expect(error.message).toContain('ENOENT');
    expect((await client.getKey({ keyId: error.keyId! })).status).toBe('INACTIVE');
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
  });

  it.each([
    ['the receiver reads another file', (): Partial<Parameters<typeof rotateWebhookKey>[0]> => ({ keyStore: envFileSink({ path: tempEnvPath() }).keyStore! })],
    ['the receiver holds a different secret', () => ({ keyStore: { getSecret: () => Promise.resolve(generateSharedSecret()) } })],
    ['the stored value is not a valid key', () => ({ keyStore: { getSecret: () => Promise.resolve('bm90IGEga2V5') } })],
    ['the key store fails', () => ({ keyStore: { getSecret: () => Promise.reject(new Error('AccessDenied')) } })],
    ['a stdout sink without a key store', () => ({ sink: stdoutSink({ write: () => undefined }) })],
  ])('fails at verify when %s: never activates, active key unchanged', async (_name, override) => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    let storedSecret = '';
    const inner = envFileSink({ path: tempEnvPath() });
    const sink: SecretSink = { name: 'env-file', keyStore: inner.keyStore!, store: (keyId, secret) => ((storedSecret = secret), inner.store(keyId, secret)) };
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink, ...override() }));
    expect(error.step).toBe('verify');
    expect((await client.getKey({ keyId: error.keyId! })).status).toBe('INACTIVE');
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
    if (storedSecret !== '') expect(error.message).not.toContain(storedSecret);
  });

  it('fails at activate when the API refuses, with the stored key left INACTIVE and the active key unchanged', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    emulator.injectFault({ method: 'webhook.key.activate', status: 500, times: 1 });
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink: envFileSink({ path: tempEnvPath() }) }));
    expect(error.step).toBe('activate');
    expect(error.message).toContain(`activate ${error.keyId}`);
    expect((await client.getKey({ keyId: error.keyId! })).status).toBe('INACTIVE');
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
  });

  it('activation answer lost and read-back failed: the outcome is reported unknown, naming webhook.key.get, never "the active key is unchanged"', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    // The activation happens, but its answer is lost; then webhook.key.get fails too.
    const lossy = {
      ...client,
      async activateKey(input: { keyId: string }) {
        await client.activateKey(input);
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
    };
    emulator.injectFault({ method: 'webhook.key.get', status: 500, times: 10 });
    const error = await rotationError(rotateWebhookKey({ client: lossy, accountId: account.accountId, sink: envFileSink({ path: tempEnvPath() }) }));
    expect(error.step).toBe('activate');
    expect(error.activation).toBe('unknown');
    expect(error.message).toContain(`whether ${error.keyId} was activated is unknown`);
    expect(error.message).toContain('webhook.key.get');
    expect(error.message).not.toContain('the active key is unchanged');
    expect(error.message).not.toContain('is INACTIVE)');
    // What really happened: the new key is ACTIVE and the previous one DELETED.
    expect(emulator.activeKeyId(account.accountId)).toBe(error.keyId);
    expect(emulator.keys(account.accountId).find((k) => k.keyId === activeKeyId)?.status).toBe('DELETED');
  });

  it('activation refused and read-back says INACTIVE: known not done, the active key unchanged', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    emulator.injectFault({ method: 'webhook.key.activate', status: 500, times: 10 });
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink: envFileSink({ path: tempEnvPath() }) }));
    expect(error.activation).toBe('not-done');
    expect(error.message).toContain('the active key is unchanged');
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
  });

  it('a verify failure because the key store does not hold the key says "not found", not "(Error)"', async () => {
    const { client, account } = await withActiveKey();
    const error = await rotationError(
      rotateWebhookKey({ client, accountId: account.accountId, sink: envFileSink({ path: tempEnvPath() }), keyStore: { getSecret: () => Promise.resolve(undefined) } }),
    );
    expect(error.step).toBe('verify');
    expect(error.message).toContain('(not found)');
    expect(error.message).not.toContain('(Error)');
  });

  it('the sink stores under (account, key id), and the read-back asks for that account', async () => {
    const { client, account } = await withActiveKey();
    const stored: Array<[string, string | undefined]> = [];
    const asked: Array<string | undefined> = [];
    const inner = envFileSink({ path: tempEnvPath() });
    const sink: SecretSink = {
      name: 'recording',
      store: (keyId, secret, context) => (stored.push([keyId, context?.accountId]), inner.store(keyId, secret, context)),
      keyStore: { getSecret: (keyId, context) => (asked.push(context?.accountId), inner.keyStore!.getSecret(keyId, context)) },
    };
    const result = await rotateWebhookKey({ client, accountId: account.accountId, sink });
    expect(stored).toEqual([[result.keyId, account.accountId]]);
    expect(asked).toEqual([account.accountId]);
  });

  it('a stdout sink verified through the key store the human filled', async () => {
    const { client, account, emulator } = await withActiveKey();
    const printed: string[] = [];
    const humanStore = envFileSink({ path: tempEnvPath() });
    const result = await rotateWebhookKey({
      client,
      accountId: account.accountId,
      sink: stdoutSink({ write: (line) => printed.push(line) }),
      keyStore: humanStore.keyStore!,
      afterStore: async (keyId) => {
        const [, secret] = printed[0]!.trim().split(' ');
        await humanStore.store(keyId, secret!);
      },
    });
    expect(printed[0]).toMatch(new RegExp(`^${result.keyId} \\S+\\n$`));
    expect(emulator.activeKeyId(account.accountId)).toBe(result.keyId);
  });
});

describe('awsSecretsManagerSink (real AWS SDK against a local Secrets Manager endpoint)', () => {
  it('creates kompliant/webhook/<key_id>, reads it back through awsSecretsManagerKeyStore, then activates', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    const fake = await startFakeSecretsManager();
    running.push(fake);
    const result = await rotateWebhookKey({ client, accountId: account.accountId, sink: awsSecretsManagerSink({ client: fake.client() }), previousKeyId: activeKeyId });
    expect(fake.creates).toEqual([{ name: `kompliant/webhook/${result.keyId}`, authorized: true }]);
    expect(fake.calls.map((c) => c.secretId)).toEqual([`kompliant/webhook/${result.keyId}`]);
    expect(emulator.activeKeyId(account.accountId)).toBe(result.keyId);
    // The receiver's store, configured as in production, resolves the new key.
    expect(await awsSecretsManagerKeyStore({ client: fake.client() }).getSecret(result.keyId)).toEqual(expect.any(String));
  });

  it.each([
    ['AccessDeniedException', 'store'],
    ['ResourceExistsException', 'store'],
  ])('CreateSecret failing with %s stops at %s; the active key is unchanged', async (type, step) => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    const fake = await startFakeSecretsManager();
    running.push(fake);
    fake.failAll = { type, message: 'no' };
    const error = await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink: awsSecretsManagerSink({ client: fake.client() }) }));
    expect(error.step).toBe(step);
    expect(error.message).toContain(type);
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
  });

  it('a receiver store that reads elsewhere stops at verify; the active key is unchanged', async () => {
    const { client, account, emulator, activeKeyId } = await withActiveKey();
    const fake = await startFakeSecretsManager();
    running.push(fake);
    const sink = awsSecretsManagerSink({ client: fake.client(), keyStore: awsSecretsManagerKeyStore({ client: fake.client(), secretId: (k) => `other/${k}` }) });
    expect((await rotationError(rotateWebhookKey({ client, accountId: account.accountId, sink }))).step).toBe('verify');
    expect(emulator.activeKeyId(account.accountId)).toBe(activeKeyId);
    expect(() => awsSecretsManagerSink({ client: fake.client(), clientConfig: {} } as never)).toThrow(/not both/);
  });
});
