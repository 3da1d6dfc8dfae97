// The CLI's `send --event-type X` without a payload, and the `config` verbs against the emulator (dist/cli.js run as a process).
import { afterEach, describe, expect, it } from 'vitest';
import { generateSharedSecret } from '../../src/testing.js';
import { runCli } from '../support/cli.js';
import { credentialsOf, startEmulatorWithClient } from '../support/emulator.js';
import { startTestReceiver } from '../support/receiver.js';

const running: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()));
});

describe('CLI events and configs', { timeout: 30_000 }, () => {
  it('send --event-type X with no payload seals a realistic sample of X; a given payload still wins', async () => {
    const receiver = await startTestReceiver();
    running.push(receiver);
    const secret = generateSharedSecret();
    receiver.secrets.set('whk_20251121_01', secret);
    const env = { KOMPLIANT_WEBHOOK_SECRET: secret };
    const base = ['send', '--url', receiver.url, '--key-id', 'whk_20251121_01'];
    const sample = await runCli([...base, '--event-type', 'DECISION_DOCUMENT_GENERATED'], { env });
    expect(sample.code).toBe(0);
    const given = await runCli([...base, '--event-type', 'DECISION_DOCUMENT_GENERATED'], { env, input: '{"version":"1.0","mine":true}' });
    expect(given.code).toBe(0);
    expect(receiver.events).toHaveLength(2);
    expect(receiver.events[0]!.event_type).toBe('DECISION_DOCUMENT_GENERATED');
    expect(receiver.events[0]!.data).toMatchObject({ version: '1.0', decision_document_id: expect.stringMatching(/^wdd_/), subject_record_id: expect.stringMatching(/^sr_/) });
    expect(receiver.events[1]!.data).toEqual({ version: '1.0', mine: true });
    const notObject = await runCli([...base], { env, input: '[1]' });
    expect(notObject.code).toBe(2);
    expect(notObject.stderr).toContain('must be a JSON object');
  });

  it('config create|get|list|update|delete call the key API; an API error exits 1 with its code', async () => {
    const { emulator, account } = await startEmulatorWithClient();
    running.push(emulator);
    const { apiKey, secretKey, authToken } = credentialsOf(account);
    const env = { KOMPLIANT_API_KEY: apiKey, KOMPLIANT_SECRET_KEY: secretKey, KOMPLIANT_AUTH_TOKEN: authToken, KOMPLIANT_BASE_URL: emulator.url };
    const config = (...args: string[]) => runCli(['config', ...args, '--account-id', account.accountId], { env });

    const created = await config('create', '--url', 'https://example.com/a');
    expect(created.code).toBe(0);
    const configId = (JSON.parse(created.stdout) as { config_id: string }).config_id;
    expect(configId).toMatch(/^whc_/);
    const duplicate = await config('create', '--url', 'https://example.com/a');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('SYSTEM_RULE_VIOLATION URL_ALREADY_EXISTS');
    expect(JSON.parse((await config('update', '--config-id', configId, '--url', 'https://example.com/b')).stdout)).toMatchObject({ url: 'https://example.com/b' });
    expect(JSON.parse((await config('get', '--config-id', configId)).stdout)).toMatchObject({ config_id: configId, url: 'https://example.com/b' });
    expect(JSON.parse((await config('list')).stdout).configs).toHaveLength(1);
    expect(JSON.parse((await config('delete', '--config-id', configId)).stdout)).toEqual({ config_id: configId });
    expect(JSON.parse((await config('list')).stdout)).toEqual({ configs: [] });
    const gone = await config('get', '--config-id', configId);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('ENTITY_NOT_FOUND');

    const [noAction, noUrl, help] = await Promise.all([config('rename'), config('create'), runCli(['config', '--help'])]);
    expect([noAction.code, noUrl.code, help.code]).toEqual([2, 2, 0]);
    expect(noUrl.stderr).toContain('--url is required');
    expect(help.stdout).toMatch(/^Usage: kompliant-webhooks config create/);
  });
});
