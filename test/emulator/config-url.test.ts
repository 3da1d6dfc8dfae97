// The emulator's webhook.config.create URL rules: https:// exactly as written, and a too-long URL named as such.
import { afterEach, describe, expect, it } from 'vitest';
import { startEmulatorWithClient, type EmulatorFixture } from '../support/emulator.js';

let fixture: EmulatorFixture | undefined;
afterEach(async () => {
  await fixture?.emulator.close();
  fixture = undefined;
});

async function refusal(url: string, allowHttpLocalhost = false): Promise<string> {
  fixture ??= await startEmulatorWithClient({ allowHttpLocalhost });
  try {
    await fixture.client.createConfig({ accountId: fixture.account.accountId, url });
    return 'accepted';
  } catch (error) {
    return (error as Error).message;
  }
}

describe('emulator webhook.config.create URL checks', () => {
  it.each([' https://example.com/hook', 'HTTPS://example.com/hook', 'https:example.com/x', 'http://example.com/hook', 'ftp://example.com'])(
    'refuses %j: config.url must start with https://',
    async (url) => {
      expect(await refusal(url)).toContain('config.url must start with https://');
    },
  );

  it('a URL over 2,048 characters gets its own message, not "missing"', async () => {
    const message = await refusal(`https://example.com/${'a'.repeat(2_100)}`);
    expect(message).toContain('config.url is longer than 2048 characters');
    expect(message).not.toContain('missing');
  });

  it('accepts https:// URLs, and http:// only for localhost when allowed', async () => {
    expect(await refusal('https://example.com/hook')).toBe('accepted');
    await fixture?.emulator.close();
    fixture = undefined;
    expect(await refusal('http://127.0.0.1:9/hook', true)).toBe('accepted');
    expect(await refusal('http://example.com/hook', true)).toContain('config.url must start with https://');
  });
});
