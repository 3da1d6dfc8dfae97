import { once } from 'node:events';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createKompliantClient } from '../../src/client.js';
import { openEnvelope } from '../../src/index.js';
import { createTestWebhook, generateSharedSecret } from '../../src/testing.js';
import { runCli, startCli } from '../support/cli.js';
import { credentialsOf, startEmulatorWithClient } from '../support/emulator.js';
import { startTestReceiver } from '../support/receiver.js';
import { startFakeSecretsManager } from '../support/secrets-manager-server.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'kw-cli-'));
}

const payload = { version: '1.0', subject_record_id: 'sr_1', user_context: { user_id: 'u_1', user_type: 'USER' } };

describe('CLI (dist/cli.js run as a process)', { timeout: 30_000 }, () => {
  it('documents commands and exit codes; --help works for every command', async () => {
    const top = await runCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Exit codes:[\s\S]*0 {2}success[\s\S]*1 {2}the operation failed[\s\S]*2 {2}usage error/);
    const commands = ['keygen', 'seal', 'send', 'open', 'detect', 'rotate', 'emulator'];
    const helps = await Promise.all(commands.map((command) => runCli([command, '--help'])));
    for (const [i, command] of commands.entries()) {
      expect(top.stdout).toContain(`  ${command}`);
      expect(helps[i]!.code).toBe(0);
      expect(helps[i]!.stdout).toMatch(new RegExp(`^Usage: kompliant-webhooks ${command}`));
    }
    const [none, unknown, badOption] = await Promise.all([runCli([]), runCli(['frobnicate']), runCli(['keygen', '--bogus'])]);
    expect([none.code, unknown.code, badOption.code]).toEqual([2, 2, 2]);
  });

  it('--version prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('keygen prints a fresh 32-byte secret, or writes it 0600 with --out', async () => {
    const a = await runCli(['keygen']);
    const b = await runCli(['keygen']);
    expect(a.code).toBe(0);
    expect(Buffer.from(a.stdout.trim(), 'base64')).toHaveLength(32);
    expect(a.stdout).not.toBe(b.stdout);
    const out = join(tempDir(), 'secret');
    const written = await runCli(['keygen', '--out', out]);
    expect(written.code).toBe(0);
    expect(written.stdout).toBe('');
    expect(Buffer.from(readFileSync(out, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect((await runCli(['keygen', '--out', out])).code).toBe(2);
  });

  it('seal then open round-trips with the secret from env, a file, or stdin; the secret is never echoed', async () => {
    const secret = generateSharedSecret();
    const dir = tempDir();
    writeFileSync(join(dir, 'payload.json'), JSON.stringify(payload));
    writeFileSync(join(dir, 'secret'), `${secret}\n`);
    const sealed = await runCli(['seal', '--key-id', 'whk_20251121_07', '--event-type', 'DOCUMENT_UPLOADED'], {
      env: { KOMPLIANT_WEBHOOK_SECRET: secret },
      input: JSON.stringify(payload),
    });
    expect(sealed.code).toBe(0);
    expect(sealed.stdout + sealed.stderr).not.toContain(secret);
    const envelope = JSON.parse(sealed.stdout) as Record<string, unknown>;
    expect(openEnvelope(envelope, secret)).toMatchObject({ key_id: 'whk_20251121_07', event_type: 'DOCUMENT_UPLOADED', data: payload });
    writeFileSync(join(dir, 'envelope.json'), sealed.stdout);

    const viaFile = await runCli(['open', '--secret-file', join(dir, 'secret')], { input: sealed.stdout });
    expect(viaFile.code).toBe(0);
    expect(JSON.parse(viaFile.stdout)).toMatchObject({ data: payload });
    const viaStdin = await runCli(['open', '--secret-stdin', '--envelope-file', join(dir, 'envelope.json')], { input: `${secret}\n` });
    expect(viaStdin.code).toBe(0);
    const viaEnv = await runCli(['open', '--secret-env', 'MY_SECRET', '--envelope-file', join(dir, 'envelope.json')], { env: { MY_SECRET: secret } });
    expect(viaEnv.code).toBe(0);
    expect(viaFile.stderr + viaStdin.stdout + viaStdin.stderr).not.toContain(secret);
  });

  it('open: a wrong secret exits 1 with DECRYPTION_FAILED; a malformed one exits 2 without echoing it; no secret from argv', async () => {
    const envelope = JSON.stringify(createTestWebhook({ secret: generateSharedSecret(), data: payload }));
    const wrong = await runCli(['open'], { env: { KOMPLIANT_WEBHOOK_SECRET: generateSharedSecret() }, input: envelope });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('DECRYPTION_FAILED');
    expect(wrong.stderr).toContain('kompliant-webhooks detect');
    const malformed = 'c2hvcnQ=';
    const bad = await runCli(['open'], { env: { KOMPLIANT_WEBHOOK_SECRET: malformed }, input: envelope });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('not base64 of exactly 32 bytes');
    expect(bad.stderr + bad.stdout).not.toContain(malformed);
    // U+0141 'Ł' in place of an 'A': a decoder keeping each character's low byte reads 32 zero bytes.
    const lookalike = `\u0141${Buffer.alloc(32).toString('base64').slice(1)}`;
    const nonAscii = await runCli(['open'], { env: { KOMPLIANT_WEBHOOK_SECRET: lookalike }, input: envelope });
    expect(nonAscii.code).toBe(2);
    expect(nonAscii.stderr).toContain('not base64 of exactly 32 bytes');
    const argv = await runCli(['open', '--secret', generateSharedSecret()], { input: envelope });
    expect(argv.code).toBe(2);
    const missing = await runCli(['open'], { input: envelope });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('KOMPLIANT_WEBHOOK_SECRET');
  });

  it('send POSTs a sealed event to a real receiver: exit 0 on 200, 1 otherwise', async () => {
    const receiver = await startTestReceiver();
    running.push(receiver);
    const secret = generateSharedSecret();
    receiver.secrets.set('whk_20251121_01', secret);
    const ok = await runCli(['send', '--url', receiver.url, '--key-id', 'whk_20251121_01'], { env: { KOMPLIANT_WEBHOOK_SECRET: secret }, input: JSON.stringify(payload) });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^HTTP 200 /);
    expect(receiver.events).toHaveLength(1);
    expect(receiver.events[0]!.data).toEqual(payload);
    const unknownKey = await runCli(['send', '--url', receiver.url, '--key-id', 'whk_20251121_02'], { env: { KOMPLIANT_WEBHOOK_SECRET: secret }, input: JSON.stringify(payload) });
    expect(unknownKey.code).toBe(1);
    expect(unknownKey.stdout).toContain('HTTP 401');
    expect(unknownKey.stdout).toContain('UNKNOWN_KEY');
  });

  it('detect reports the layout and AAD that authenticate', async () => {
    const secret = generateSharedSecret();
    const env = { KOMPLIANT_WEBHOOK_SECRET: secret };
    const standard = await runCli(['detect', '--json'], { env, input: JSON.stringify(createTestWebhook({ secret, data: payload })) });
    expect(standard.code).toBe(0);
    expect(JSON.parse(standard.stdout)).toMatchObject({ tried: 48, matches: [{ layout: 'nonce-ciphertext-tag', option: "aad: 'default'", jsonPayload: true }] });
    expect(JSON.parse(standard.stdout).matches[0]).not.toHaveProperty('layoutOption');

    const noAad = await runCli(['detect'], { env, input: JSON.stringify(createTestWebhook({ secret, data: payload, aad: 'none' })) });
    expect(noAad.code).toBe(0);
    expect(noAad.stdout).toContain('none (empty AAD)');
    expect(noAad.stdout).toContain('layout: nonce-ciphertext-tag (the default)');
    expect(noAad.stdout).not.toContain("layout: '");

    // A sender that puts the nonce last: same bytes, reordered.
    const envelope = createTestWebhook({ secret, data: payload });
    const bytes = Buffer.from(envelope.data, 'base64');
    const nonceLast = Buffer.concat([bytes.subarray(12), bytes.subarray(0, 12)]).toString('base64');
    const reordered = await runCli(['detect', '--json'], { env, input: JSON.stringify({ ...envelope, data: nonceLast }) });
    expect(reordered.code).toBe(0);
    expect(JSON.parse(reordered.stdout).matches).toEqual([
      expect.objectContaining({ layout: 'ciphertext-tag-nonce', layoutOption: "layout: 'ciphertext-tag-nonce'", option: "aad: 'default'" }),
    ]);
    const reorderedText = await runCli(['detect'], { env, input: JSON.stringify({ ...envelope, data: nonceLast }) });
    expect(reorderedText.stdout).toContain("configure: layout: 'ciphertext-tag-nonce', aad: 'default'");
    // What detect printed is what open (and every receiver) accepts.
    const opened = await runCli(['open', '--layout', 'ciphertext-tag-nonce'], { env, input: JSON.stringify({ ...envelope, data: nonceLast }) });
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.stdout).data).toEqual(payload);
    const openedDefault = await runCli(['open'], { env, input: JSON.stringify({ ...envelope, data: nonceLast }) });
    expect(openedDefault.code).toBe(1);
    expect(openedDefault.stderr).toContain('DECRYPTION_FAILED');

    const none = await runCli(['detect'], { env: { KOMPLIANT_WEBHOOK_SECRET: generateSharedSecret() }, input: JSON.stringify(envelope) });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('No known format authenticates');
  });

  it('seal --layout makes a fixture that detect names and open --layout opens; an unknown --layout exits 2', async () => {
    const secret = generateSharedSecret();
    const env = { KOMPLIANT_WEBHOOK_SECRET: secret };
    const sealed = await runCli(['seal', '--layout', 'tag-nonce-ciphertext'], { env, input: JSON.stringify(payload) });
    expect(sealed.code).toBe(0);
    const detected = await runCli(['detect', '--json'], { env, input: sealed.stdout });
    expect(JSON.parse(detected.stdout).matches).toEqual([
      expect.objectContaining({ layout: 'tag-nonce-ciphertext', layoutOption: "layout: 'tag-nonce-ciphertext'", option: "aad: 'default'" }),
    ]);
    expect(openEnvelope(sealed.stdout, secret, { layout: 'tag-nonce-ciphertext' }).data).toEqual(payload);
    const opened = await runCli(['open', '--layout', 'tag-nonce-ciphertext'], { env, input: sealed.stdout });
    expect(opened.code).toBe(0);
    for (const command of ['seal', 'open']) {
      const bad = await runCli([command, '--layout', 'nonce|tag|ciphertext'], { env, input: sealed.stdout });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--layout must be one of 'nonce-ciphertext-tag'");
    }
  });

  it('rotate against the emulator: env-file sink activates; a failing store exits 1 and leaves the active key', async () => {
    const { emulator, account, client } = await startEmulatorWithClient();
    running.push(emulator);
    const first = await client.createKey({ accountId: account.accountId });
    await client.activateKey({ keyId: first.key_id });
    const { apiKey, secretKey, authToken } = credentialsOf(account);
    const env = { KOMPLIANT_API_KEY: apiKey, KOMPLIANT_SECRET_KEY: secretKey, KOMPLIANT_AUTH_TOKEN: authToken, KOMPLIANT_BASE_URL: emulator.url };
    const envFile = join(tempDir(), 'receiver.env');

    const failed = await runCli(['rotate', '--account-id', account.accountId, '--dotenv-path', join(tempDir(), 'missing', 'x.env')], { env });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/failed at step "store".*active key is unchanged/);
    expect(emulator.activeKeyId(account.accountId)).toBe(first.key_id);

    const ok = await runCli(['rotate', '--account-id', account.accountId, '--dotenv-path', envFile, '--previous-key-id', first.key_id], { env });
    expect(ok.code).toBe(0);
    const newKeyId = emulator.activeKeyId(account.accountId)!;
    expect(newKeyId).not.toBe(first.key_id);
    expect(ok.stderr).toContain(`Keep ${first.key_id} in your key store`);
    expect(readFileSync(envFile, 'utf8')).toContain(`KOMPLIANT_WEBHOOK_SECRET_${account.accountId}_${newKeyId.slice(4)}=`);
    expect(ok.stdout + ok.stderr).not.toContain(secretKey);

    const noCredentials = await runCli(['rotate', '--account-id', account.accountId, '--dotenv-path', envFile], { env: { KOMPLIANT_BASE_URL: emulator.url } });
    expect(noCredentials.code).toBe(2);
  });

  it('rotate with the aws-secrets-manager sink: CreateSecret through the real SDK, read back, activated', async () => {
    const { emulator, account, client } = await startEmulatorWithClient();
    running.push(emulator);
    const fake = await startFakeSecretsManager();
    running.push(fake);
    const { apiKey, secretKey, authToken } = credentialsOf(account);
    const result = await runCli(['rotate', '--account-id', account.accountId, '--sink', 'aws-secrets-manager', '--aws-region', 'us-east-1'], {
      env: {
        KOMPLIANT_API_KEY: apiKey,
        KOMPLIANT_SECRET_KEY: secretKey,
        KOMPLIANT_AUTH_TOKEN: authToken,
        KOMPLIANT_BASE_URL: emulator.url,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: fake.url,
        AWS_ACCESS_KEY_ID: 'AKIDFAKE',
        AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key',
        AWS_MAX_ATTEMPTS: '1',
      },
    });
    expect(result.code).toBe(0);
    const keyId = emulator.activeKeyId(account.accountId)!;
    expect(fake.creates).toEqual([{ name: `kompliant/webhook/${keyId}`, authorized: true }]);
    expect((await client.getKey({ keyId })).status).toBe('ACTIVE');
  });

  it('rotate with the stdout sink waits for the human, then verifies and activates', async () => {
    const { emulator, account } = await startEmulatorWithClient();
    running.push(emulator);
    const { apiKey, secretKey, authToken } = credentialsOf(account);
    const verifyFile = join(tempDir(), 'stored.env');
    const child = startCli(['rotate', '--account-id', account.accountId, '--sink', 'stdout', '--verify-dotenv-path', verifyFile], {
      KOMPLIANT_API_KEY: apiKey,
      KOMPLIANT_SECRET_KEY: secretKey,
      KOMPLIANT_AUTH_TOKEN: authToken,
      KOMPLIANT_BASE_URL: emulator.url,
    });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const [keyId, secret] = line.toString().trim().split(' ');
    expect(emulator.activeKeyId(account.accountId)).toBeUndefined();
    writeFileSync(verifyFile, `KOMPLIANT_WEBHOOK_SECRET_${keyId!.slice(4)}=${secret}\n`);
    child.stdin!.write('\n');
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
    expect(emulator.activeKeyId(account.accountId)).toBe(keyId);
  });

  it('emulator runs as a process, serves the key API, and stops on SIGTERM', async () => {
    const child = startCli(['emulator', '--allow-http-localhost', '--time-scale', '0.01']);
    let text = '';
    while (!text.trimEnd().endsWith('}')) text += ((await once(child.stdout!, 'data')) as [Buffer])[0].toString();
    const { url, accounts } = JSON.parse(text) as { url: string; accounts: Array<{ accountId: string; apiKey: string; secretKey: string; authToken: string }> };
    const account = accounts[0]!;
    const client = createKompliantClient({ baseUrl: url, apiKey: account.apiKey, secretKey: account.secretKey, authToken: account.authToken, env: {} });
    const key = await client.createKey({ accountId: account.accountId });
    expect(key.status).toBe('INACTIVE');
    await client.createConfig({ accountId: account.accountId, url: 'http://localhost:9/hook' });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
  });
});
