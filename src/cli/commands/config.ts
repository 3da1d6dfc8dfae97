// The `config` command: the webhook config methods of the key API (create, get, list, update, delete).
import { isKompliantApiError } from '../../key-api/api-error.js';
import { createKompliantClient, type KompliantClient } from '../../key-api/client.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions, UsageError } from '../args.js';

const ACTIONS = ['create', 'get', 'list', 'update', 'delete'] as const;
type Action = (typeof ACTIONS)[number];

function required(value: string | undefined, name: string, action: Action): string {
  if (value === undefined || value.length === 0) throw new UsageError(`config ${action}: --${name} is required`);
  return value;
}

/** Calls the client method of `action` with the options it needs. */
function callAction(client: KompliantClient, action: Action, accountId: string, values: { 'config-id'?: string; url?: string }): Promise<unknown> {
  switch (action) {
    case 'create':
      return client.createConfig({ accountId, url: required(values.url, 'url', action) });
    case 'get':
      return client.getConfig({ accountId, configId: required(values['config-id'], 'config-id', action) });
    case 'list':
      return client.listConfigs({ accountId });
    case 'update':
      return client.updateConfig({ accountId, configId: required(values['config-id'], 'config-id', action), url: required(values.url, 'url', action) });
    case 'delete':
      return client.deleteConfig({ accountId, configId: required(values['config-id'], 'config-id', action) });
  }
}

/** `config`: manage the account's webhook URLs. */
export const configCommand: CliCommand = {
  name: 'config',
  summary: 'manage webhook URLs: config create|get|list|update|delete',
  help: `Usage: kompliant-webhooks config create --account-id ID --url URL [options]
       kompliant-webhooks config get    --account-id ID --config-id ID [options]
       kompliant-webhooks config list   --account-id ID [options]
       kompliant-webhooks config update --account-id ID --config-id ID --url URL [options]
       kompliant-webhooks config delete --account-id ID --config-id ID [options]

Calls webhook.config.<action> and prints its answer as JSON. Every event of the account is
delivered to every active config. URLs must start with https:// and be unique per account
(URL_ALREADY_EXISTS); at most 20 active configs (MAX_WEBHOOK_URL_LIMIT). delete is permanent.
Exit 1 on an API error (its code and message on stderr).

  --account-id ID      the account (or env KOMPLIANT_ACCOUNT_ID)
  --config-id ID       the config (whc_...): get, update, delete
  --url URL            the webhook URL: create, update
  --base-url URL       API base URL (or env KOMPLIANT_BASE_URL; default https://api.kompliant.com)

API credentials come from env KOMPLIANT_API_KEY, KOMPLIANT_SECRET_KEY, KOMPLIANT_AUTH_TOKEN.`,
  async run(args, io) {
    const [action, ...rest] = args;
    if (action === undefined || !(ACTIONS as readonly string[]).includes(action)) {
      throw new UsageError(`the first argument must be one of ${ACTIONS.join(', ')}`);
    }
    const values = parseOptions(rest, {
      'account-id': { type: 'string' },
      'config-id': { type: 'string' },
      url: { type: 'string' },
      'base-url': { type: 'string' },
    });
    const accountId = values['account-id'] ?? io.env.KOMPLIANT_ACCOUNT_ID;
    if (accountId === undefined) throw new UsageError('--account-id (or KOMPLIANT_ACCOUNT_ID) is required');
    let client: KompliantClient;
    try {
      client = createKompliantClient({ baseUrl: values['base-url'] ?? io.env.KOMPLIANT_BASE_URL, env: io.env });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    try {
      const result = await callAction(client, action as Action, accountId, values);
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      return EXIT.OK;
    } catch (error) {
      if (!isKompliantApiError(error)) throw error;
      io.stderr(`${error.code}${error.subCode === undefined ? '' : ` ${error.subCode}`}: ${error.message}\n`);
      return EXIT.FAILED;
    }
  },
};
