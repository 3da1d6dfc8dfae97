// The `accounts` allow-list: which Kompliant accounts a receiver serves, checked before any key-store call.
import { ID_PATTERN } from '../wire/envelope.js';
import { WebhookError } from '../wire/errors.js';

/** Checks the `accounts` option: undefined (every account) or a non-empty array of account ids. */
export function checkAccountsOption(value: unknown, optionName = 'accounts'): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new TypeError(`${optionName} must be a non-empty array of Kompliant account ids`);
  }
  for (const accountId of value) {
    if (typeof accountId !== 'string' || !ID_PATTERN.test(accountId)) {
      throw new TypeError(`${optionName}: ${JSON.stringify(String(accountId).slice(0, 64))} is not an account id ([A-Za-z0-9_-]{1,128})`);
    }
  }
  return new Set(value as string[]);
}

/** Throws 401 UNKNOWN_KEY ("account not served") for an account outside the allow-list. */
export function requireServedAccount(accounts: ReadonlySet<string> | undefined, accountId: string): void {
  if (accounts !== undefined && !accounts.has(accountId)) {
    throw new WebhookError('UNKNOWN_KEY', { message: 'account not served' });
  }
}
