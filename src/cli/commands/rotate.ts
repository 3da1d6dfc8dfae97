// The `rotate` command: rotates the webhook key through the key API and stores the new secret in a sink.
import { createInterface } from 'node:readline';
import { isKompliantApiError } from '../../key-api/api-error.js';
import { createKompliantClient } from '../../key-api/client.js';
import { rotateWebhookKey, RotationError } from '../../key-api/rotation.js';
import type { SecretSink } from '../../key-api/secret-sink.js';
import { envFileSink } from '../../key-api/secret-sinks/env-file.js';
import { stdoutSink } from '../../key-api/secret-sinks/stdout.js';
import type { CliIo } from '../input.js';
import type { CliCommand } from '../command.js';
import { EXIT, parseOptions, UsageError } from '../args.js';
import { importOptionalPeer } from '../optional-peer.js';

function waitForEnter(io: CliIo): Promise<void> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: io.stdin });
    let confirmed = false;
    rl.once('line', () => {
      confirmed = true;
      rl.close();
      // Nothing reads stdin after this; an open stdin pipe would keep the process alive.
      (io.stdin as { destroy?: () => void }).destroy?.();
      resolve();
    });
    rl.once('close', () => {
      if (!confirmed) reject(new Error('stdin closed before confirmation'));
    });
  });
}

/** `rotate`: the rotation runbook in one command. */
export const rotateCommand: CliCommand = {
  name: 'rotate',
  summary: 'rotate the webhook key: create, store, verify, activate',
  help: `Usage: kompliant-webhooks rotate --account-id ID --sink env-file --dotenv-path PATH [options]
       kompliant-webhooks rotate --account-id ID --sink stdout --verify-dotenv-path PATH [options]
       kompliant-webhooks rotate --account-id ID --sink aws-secrets-manager [--aws-region R] [options]

Creates a key, stores its secret through the sink, reads it back the way the receiver will and
opens a self-made test envelope with it, and only then activates it. A failure at any step
leaves the active key unchanged and says which step failed and what to do (exit 1).

  --account-id ID         the account (or env KOMPLIANT_ACCOUNT_ID)
  --sink NAME             where the secret goes: env-file (default), stdout, aws-secrets-manager
  --dotenv-path PATH      env-file sink: the dotenv file the receiver loads (created 0600)
  --verify-dotenv-path P  stdout sink: after printing the secret, waits for Enter on stdin, then
                          verifies through this dotenv file (where you stored it)
  --aws-region R          aws-secrets-manager sink: CreateSecret kompliant/webhook/<key_id>, read
                          back with GetSecretValue (region and credentials otherwise from the
                          AWS environment; needs @aws-sdk/client-secrets-manager installed)
  --previous-key-id ID    the key ACTIVE now: checked first and reported (keep it until retries drain)
  --base-url URL          API base URL (or env KOMPLIANT_BASE_URL; default https://api.kompliant.com)

API credentials come from env KOMPLIANT_API_KEY, KOMPLIANT_SECRET_KEY, KOMPLIANT_AUTH_TOKEN.`,
  async run(args, io) {
    const values = parseOptions(args, {
      'account-id': { type: 'string' },
      sink: { type: 'string' },
      'dotenv-path': { type: 'string' },
      'verify-dotenv-path': { type: 'string' },
      'previous-key-id': { type: 'string' },
      'base-url': { type: 'string' },
      'aws-region': { type: 'string' },
    });
    const accountId = values['account-id'] ?? io.env.KOMPLIANT_ACCOUNT_ID;
    if (accountId === undefined) throw new UsageError('--account-id (or KOMPLIANT_ACCOUNT_ID) is required');
    const sinkName = values.sink ?? 'env-file';
    let sink: SecretSink;
    let keyStore;
    let afterStore: ((keyId: string) => Promise<void>) | undefined;
    if (sinkName === 'env-file') {
      if (values['dotenv-path'] === undefined) throw new UsageError('--dotenv-path is required with --sink env-file');
      sink = envFileSink({ path: values['dotenv-path'] });
    } else if (sinkName === 'stdout') {
      if (values['verify-dotenv-path'] === undefined) throw new UsageError('--verify-dotenv-path is required with --sink stdout');
      sink = stdoutSink({ write: io.stdout });
      keyStore = envFileSink({ path: values['verify-dotenv-path'] }).keyStore;
      afterStore = async (keyId) => {
        io.stderr(`Store the secret of ${keyId} printed above where your receiver reads keys (and in ${values['verify-dotenv-path']}), then press Enter.\n`);
        await waitForEnter(io);
      };
    } else if (sinkName === 'aws-secrets-manager') {
      // Loaded only for this sink: the AWS SDK is an optional peer dependency.
      const aws = await importOptionalPeer(() => import('../../key-api/secret-sinks/aws-secrets-manager.js'), '@aws-sdk/client-secrets-manager', '--sink aws-secrets-manager');
      sink = aws.awsSecretsManagerSink(values['aws-region'] === undefined ? {} : { clientConfig: { region: values['aws-region'] } });
    } else {
      throw new UsageError('--sink must be env-file, stdout or aws-secrets-manager');
    }
    let client;
    try {
      client = createKompliantClient({ baseUrl: values['base-url'] ?? io.env.KOMPLIANT_BASE_URL, env: io.env });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    try {
      const result = await rotateWebhookKey({
        client,
        accountId,
        sink,
        ...(keyStore === undefined ? {} : { keyStore }),
        ...(afterStore === undefined ? {} : { afterStore }),
        ...(values['previous-key-id'] === undefined ? {} : { previousKeyId: values['previous-key-id'] }),
        onStep: (step, keyId) => io.stderr(`- ${step}${keyId === undefined ? '' : ` ${keyId}`}\n`),
      });
      io.stderr(
        `Rotated: ${result.keyId} is ACTIVE since ${result.activatedAt}.` +
          (result.previousKeyId === undefined
            ? ' No --previous-key-id was given: if another key was ACTIVE before this one, keep its secret in your key store until the sender\'s retries have drained (on a first rotation there is none).\n'
            : ` Keep ${result.previousKeyId} in your key store until the sender's retries have drained.\n`),
      );
      return EXIT.OK;
    } catch (error) {
      if (error instanceof RotationError || isKompliantApiError(error)) {
        io.stderr(`${error.message}\n`);
        return EXIT.FAILED;
      }
      throw error;
    }
  },
};
