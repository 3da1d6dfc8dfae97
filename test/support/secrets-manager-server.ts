import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A secret as the fake holds it. */
export type FakeSecret = { SecretString: string } | { SecretBinary: Uint8Array };

/** An AWS error the fake answers with: `{"__type": type, "message": message}`. */
export interface FakeAwsError {
  type: string;
  message: string;
  status?: number;
}

/** One GetSecretValue call the fake received. */
export interface FakeCall {
  secretId: string;
  versionStage: string | undefined;
  authorized: boolean;
}

/**
 * A local HTTP server speaking the Secrets Manager JSON protocol (awsJson1_1) for
 * GetSecretValue, so tests run the real SDK client (serialization, SigV4 signing, retries,
 * error parsing) against it and count the calls.
 */
export interface FakeSecretsManager {
  readonly url: string;
  readonly calls: FakeCall[];
  /** Secrets by SecretId (name), for the AWSCURRENT stage; `stages` holds other labels. */
  readonly secrets: Map<string, FakeSecret>;
  readonly stages: Map<string, Map<string, FakeSecret>>;
  /** Every CreateSecret call: the name, and whether it was SigV4-signed for the fake's key. */
  readonly creates: Array<{ name: string; authorized: boolean }>;
  /** When set, every call answers this error (a secret-specific one in `errors` wins). */
  failAll: FakeAwsError | undefined;
  readonly errors: Map<string, FakeAwsError>;
  /** When true, requests are never answered (a hung endpoint). */
  hang: boolean;
  /** Answers are held until this promise resolves (to make concurrent calls overlap). */
  gate: Promise<void> | undefined;
  /** A real SDK client pointed at this server with static fake credentials. */
  client(extra?: { maxAttempts?: number }): SecretsManagerClient;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Starts the fake on a free loopback port; `close()` it after the tests. */
export async function startFakeSecretsManager(): Promise<FakeSecretsManager> {
  const hung: ServerResponse[] = [];
  const fake = {
    url: '',
    calls: [] as FakeCall[],
    creates: [] as Array<{ name: string; authorized: boolean }>,
    secrets: new Map<string, FakeSecret>(),
    stages: new Map<string, Map<string, FakeSecret>>(),
    failAll: undefined as FakeAwsError | undefined,
    errors: new Map<string, FakeAwsError>(),
    hang: false,
    gate: undefined as Promise<void> | undefined,
  };

  /** CreateSecret: refuses an existing name (ResourceExistsException), like the real service. */
  const createSecret = (raw: string, req: IncomingMessage, res: ServerResponse): void => {
    const input = JSON.parse(raw) as { Name: string; SecretString?: string };
    const authorized = String(req.headers.authorization).startsWith('AWS4-HMAC-SHA256 Credential=AKIDFAKE/');
    fake.creates.push({ name: input.Name, authorized });
    const error = fake.errors.get(input.Name) ?? fake.failAll;
    if (error !== undefined) {
      send(res, error.status ?? 400, { __type: error.type, message: error.message });
      return;
    }
    if (fake.secrets.has(input.Name)) {
      send(res, 400, { __type: 'ResourceExistsException', message: 'The operation failed because the secret already exists.' });
      return;
    }
    fake.secrets.set(input.Name, { SecretString: input.SecretString ?? '' });
    send(res, 200, { ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.Name}-AbCdEf`, Name: input.Name, VersionId: '11111111-89ab-cdef-0123-456789abcdef' });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = await readBody(req);
    if (req.method === 'POST' && req.headers['x-amz-target'] === 'secretsmanager.CreateSecret') {
      createSecret(raw, req, res);
      return;
    }
    if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue') {
      send(res, 400, { __type: 'UnknownOperationException', message: 'Only GetSecretValue and CreateSecret are faked' });
      return;
    }
    if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
      send(res, 400, { __type: 'SerializationException', message: 'Wrong content type' });
      return;
    }
    const input = JSON.parse(raw) as { SecretId: string; VersionStage?: string };
    const authorized = /^AWS4-HMAC-SHA256 Credential=AKIDFAKE\/\d{8}\/us-east-1\/secretsmanager\/aws4_request/.test(
      String(req.headers.authorization),
    );
    fake.calls.push({ secretId: input.SecretId, versionStage: input.VersionStage, authorized });
    if (fake.hang) {
      hung.push(res);
      return;
    }
    if (fake.gate !== undefined) await fake.gate;
    const error = fake.errors.get(input.SecretId) ?? fake.failAll;
    if (error !== undefined) {
      send(res, error.status ?? 400, { __type: error.type, message: error.message });
      return;
    }
    const stage = input.VersionStage ?? 'AWSCURRENT';
    const secret = stage === 'AWSCURRENT' ? fake.secrets.get(input.SecretId) : fake.stages.get(stage)?.get(input.SecretId);
    if (secret === undefined) {
      send(res, 400, { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
      return;
    }
    send(res, 200, {
      ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${input.SecretId}-AbCdEf`,
      Name: input.SecretId,
      VersionId: '01234567-89ab-cdef-0123-456789abcdef',
      VersionStages: [stage],
      CreatedDate: 1_763_700_000,
      ...('SecretString' in secret
        ? { SecretString: secret.SecretString }
        : { SecretBinary: Buffer.from(secret.SecretBinary).toString('base64') }),
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { __type: 'InternalServiceError', message: 'fake failed' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}`;

  return Object.assign(fake, {
    client(extra: { maxAttempts?: number } = {}) {
      return new SecretsManagerClient({
        endpoint: fake.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret-access-key' },
        maxAttempts: extra.maxAttempts ?? 1,
      });
    },
    async close() {
      for (const res of hung) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
