// The client's five webhook.config methods against the emulator and its rules: https only, unique URL per account, 20 active configs, permanent soft delete.
import { afterEach, describe, expect, it } from 'vitest';
import { isKompliantApiError, type KompliantApiError } from '../../src/client.js';
import { generateEmulatorAccount, MAX_CONFIGS_PER_ACCOUNT } from '../../src/emulator.js';
import { startEmulatorWithClient, type EmulatorFixture } from '../support/emulator.js';

let fixture: EmulatorFixture | undefined;
afterEach(async () => {
  await fixture?.emulator.close();
  fixture = undefined;
});

async function rejection(promise: Promise<unknown>): Promise<KompliantApiError> {
  try {
    await promise;
  } catch (error) {
    if (isKompliantApiError(error)) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

let clock = Date.parse('2026-01-02T03:04:05.000Z');
const now = () => new Date((clock += 1_000));

describe('webhook.config.create/get/list/update/delete (client against the emulator)', () => {
  it('create, get, list, update and delete one config', async () => {
    fixture = await startEmulatorWithClient({ now });
    const { client, account } = fixture;
    const accountId = account.accountId;
    const { config_id: configId } = await client.createConfig({ accountId, url: 'https://example.com/hooks/a' });
    expect(configId).toMatch(/^whc_/);
    const created = await client.getConfig({ accountId, configId });
    expect(created).toEqual({ config_id: configId, url: 'https://example.com/hooks/a', created_at: expect.any(String), updated_at: created.created_at });
    expect(await client.listConfigs({ accountId })).toEqual({ configs: [created] });

    const updated = await client.updateConfig({ accountId, configId, url: 'https://example.com/hooks/b' });
    expect(updated).toMatchObject({ config_id: configId, url: 'https://example.com/hooks/b', created_at: created.created_at });
    expect(Date.parse(updated.updated_at)).toBeGreaterThan(Date.parse(created.updated_at));
    expect(await client.getConfig({ accountId, configId })).toEqual(updated);

    expect(await client.deleteConfig({ accountId, configId })).toEqual({ config_id: configId });
    expect(await client.listConfigs({ accountId })).toEqual({ configs: [] });
    // Permanent: the id is gone for get, update and delete.
    for (const call of [
      client.getConfig({ accountId, configId }),
      client.updateConfig({ accountId, configId, url: 'https://example.com/hooks/c' }),
      client.deleteConfig({ accountId, configId }),
    ]) {
      const error = await rejection(call);
      expect(error).toMatchObject({ code: 'ENTITY_NOT_FOUND', entityType: 'Webhook Config', method: expect.stringMatching(/^webhook\.config\./) });
    }
  });

  it('a URL is unique per account, on create and on update; a deleted config frees its URL', async () => {
    fixture = await startEmulatorWithClient();
    const { client, account } = fixture;
    const accountId = account.accountId;
    const a = await client.createConfig({ accountId, url: 'https://example.com/a' });
    const b = await client.createConfig({ accountId, url: 'https://example.com/b' });
    expect(await rejection(client.createConfig({ accountId, url: 'https://example.com/a' }))).toMatchObject({ code: 'SYSTEM_RULE_VIOLATION', subCode: 'URL_ALREADY_EXISTS' });
    expect(await rejection(client.updateConfig({ accountId, configId: b.config_id, url: 'https://example.com/a' }))).toMatchObject({ subCode: 'URL_ALREADY_EXISTS' });
    // Its own URL again is no conflict.
    await expect(client.updateConfig({ accountId, configId: a.config_id, url: 'https://example.com/a' })).resolves.toMatchObject({ url: 'https://example.com/a' });
    await client.deleteConfig({ accountId, configId: a.config_id });
    await expect(client.updateConfig({ accountId, configId: b.config_id, url: 'https://example.com/a' })).resolves.toMatchObject({ url: 'https://example.com/a' });
    await expect(client.createConfig({ accountId, url: 'https://example.com/b' })).resolves.toMatchObject({ config_id: expect.stringMatching(/^whc_/) });
  });

  it(`at most ${MAX_CONFIGS_PER_ACCOUNT} active configs per account; deleting one makes room`, async () => {
    fixture = await startEmulatorWithClient();
    const { client, account } = fixture;
    const accountId = account.accountId;
    const ids: string[] = [];
    for (let i = 0; i < MAX_CONFIGS_PER_ACCOUNT; i++) ids.push((await client.createConfig({ accountId, url: `https://example.com/${i}` })).config_id);
    expect((await client.listConfigs({ accountId })).configs.map((c) => c.config_id)).toEqual(ids);
    expect(await rejection(client.createConfig({ accountId, url: 'https://example.com/one-more' }))).toMatchObject({ code: 'SYSTEM_RULE_VIOLATION', subCode: 'MAX_WEBHOOK_URL_LIMIT' });
    await client.deleteConfig({ accountId, configId: ids[0]! });
    await expect(client.createConfig({ accountId, url: 'https://example.com/one-more' })).resolves.toBeDefined();
    expect(await rejection(client.createConfig({ accountId, url: 'https://example.com/two-more' }))).toMatchObject({ subCode: 'MAX_WEBHOOK_URL_LIMIT' });
  });

  it('https:// only on update too (http:// to localhost only with allowHttpLocalhost)', async () => {
    fixture = await startEmulatorWithClient();
    const { client, account } = fixture;
    const accountId = account.accountId;
    const { config_id: configId } = await client.createConfig({ accountId, url: 'https://example.com/a' });
    for (const url of ['http://example.com/a', 'http://127.0.0.1:9/hook', 'ftp://example.com/a', 'https://user:pw@example.com/a']) {
      expect(await rejection(client.updateConfig({ accountId, configId, url }))).toMatchObject({ code: 'BAD_REQUEST' });
    }
    await fixture.emulator.close();
    fixture = await startEmulatorWithClient({ allowHttpLocalhost: true });
    const local = await fixture.client.createConfig({ accountId: fixture.account.accountId, url: 'https://example.com/a' });
    await expect(fixture.client.updateConfig({ accountId: fixture.account.accountId, configId: local.config_id, url: 'http://127.0.0.1:9/hook' })).resolves.toMatchObject({
      url: 'http://127.0.0.1:9/hook',
    });
  });

  it('a config is reached only through its own account', async () => {
    const [mine, theirs] = [generateEmulatorAccount(), generateEmulatorAccount()];
    fixture = await startEmulatorWithClient({ accounts: [mine, { ...theirs, apiKey: mine.apiKey, secretKey: mine.secretKey, authToken: mine.authToken }] });
    const { client } = fixture;
    const { config_id: configId } = await client.createConfig({ accountId: theirs.accountId, url: 'https://example.com/theirs' });
    expect(await rejection(client.getConfig({ accountId: mine.accountId, configId }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
    expect(await rejection(client.deleteConfig({ accountId: mine.accountId, configId }))).toMatchObject({ code: 'ENTITY_NOT_FOUND' });
    expect(await client.listConfigs({ accountId: mine.accountId })).toEqual({ configs: [] });
    expect(await rejection(client.getConfig({ accountId: 'sb_nobody', configId }))).toMatchObject({ code: 'ENTITY_NOT_FOUND', entityType: 'Account' });
    await expect(client.getConfig({ accountId: theirs.accountId, configId: '' })).rejects.toThrow(TypeError);
  });
});
