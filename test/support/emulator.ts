import { createKompliantClient, type KompliantClient, type KompliantClientOptions } from '../../src/client.js';
import { startEmulator, type EmulatorAccount, type EmulatorOptions, type KompliantEmulator } from '../../src/emulator.js';

export interface EmulatorFixture {
  emulator: KompliantEmulator;
  account: EmulatorAccount;
  client: KompliantClient;
}

/** A running emulator and a client signed with its first account's credentials. */
export async function startEmulatorWithClient(
  options: EmulatorOptions = {},
  clientOptions: KompliantClientOptions = {},
): Promise<EmulatorFixture> {
  const emulator = await startEmulator(options);
  const account = emulator.accounts[0] as EmulatorAccount;
  const client = createKompliantClient({
    baseUrl: emulator.url,
    apiKey: account.apiKey,
    secretKey: account.secretKey,
    authToken: account.authToken,
    retryDelayMs: 1,
    env: {},
    ...clientOptions,
  });
  return { emulator, account, client };
}

/** The API credentials of a seeded account, as client options. */
export function credentialsOf(account: EmulatorAccount): { apiKey: string; secretKey: string; authToken: string } {
  return { apiKey: account.apiKey, secretKey: account.secretKey, authToken: account.authToken };
}
