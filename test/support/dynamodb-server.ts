// dynalite (a DynamoDB-protocol server, in memory) on a loopback port, reached through the real AWS SDK over HTTP.
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createIdempotencyTableDefinition } from '../../src/dynamodb.js';

/** A running dynalite with the dedup table created. */
export interface DynamoDbServer {
  endpoint: string;
  /** A real DynamoDBClient for it: dummy credentials, few retries, so a stopped server fails fast. */
  client: DynamoDBClient;
  tableName: string;
  /** Stops the server (it keeps nothing: the data lives in memory). */
  stop(): Promise<void>;
}

/** A real DynamoDBClient for a local endpoint: dummy credentials, `maxAttempts` tries (few, so a stopped server fails fast). */
export function localDynamoDbClient(endpoint: string, maxAttempts = 2): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
    maxAttempts,
  });
}

export async function startDynamoDbServer(tableName = 'kompliant-webhook-idempotency'): Promise<DynamoDbServer> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = localDynamoDbClient(endpoint);
  // dynalite does not implement UpdateTimeToLive, so only the table itself is created here.
  await client.send(new CreateTableCommand(createIdempotencyTableDefinition(tableName).createTable));
  let stopped = false;
  return {
    endpoint,
    client,
    tableName,
    stop: () =>
      new Promise<void>((resolve) => {
        if (stopped) return resolve();
        stopped = true;
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
