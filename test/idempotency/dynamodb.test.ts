// dynamoDbIdempotencyStore through the real AWS SDK: against dynalite on loopback (the contract), and a stub for errors dynalite cannot produce.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdempotencyTableDefinition, dynamoDbIdempotencyStore, DYNAMODB_TTL_ATTRIBUTE } from '../../src/dynamodb.js';
import { localDynamoDbClient, startDynamoDbServer, type DynamoDbServer } from '../support/dynamodb-server.js';
import { describeStoreContract } from './contract.js';

describe('the kompliant-webhooks/dynamodb subpath', () => {
  it('the main entry never loads the DynamoDB SDK (built package)', () => {
    const code = `
      const before = new Set(Object.keys(require.cache));
      require('kompliant-webhooks');
      const loaded = Object.keys(require.cache).filter((f) => !before.has(f) && f.includes('node_modules'));
      const m = require('kompliant-webhooks/dynamodb');
      console.log(JSON.stringify({ loaded, type: typeof m.dynamoDbIdempotencyStore }));`;
    const out = execFileSync(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: new URL('../..', import.meta.url), encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({ loaded: [], type: 'function' });
  });

  it('checks its options and documents the table', () => {
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(() => dynamoDbIdempotencyStore({ tableName: 'abc' } as never)).toThrow(/client/);
    expect(() => dynamoDbIdempotencyStore({ client, tableName: 'a' })).toThrow(/tableName/);
    expect(() => dynamoDbIdempotencyStore({ client, tableName: 'abc', ttl: 1 } as never)).toThrow(/unknown option "ttl"/);
    expect(() => dynamoDbIdempotencyStore({ client, tableName: 'abc', timeoutMs: -1 })).toThrow(/timeoutMs/);
    expect(createIdempotencyTableDefinition('webhook-dedup')).toEqual({
      createTable: {
        TableName: 'webhook-dedup',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      },
      timeToLive: { TableName: 'webhook-dedup', TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } },
    });
    client.destroy();
  });
});

/** A stub DynamoDB endpoint answering every call with one canned JSON reply. */
async function stubDynamoDb(reply: { status: number; body?: unknown; hang?: boolean }): Promise<{ client: DynamoDBClient; calls: string[]; close(): Promise<void> }> {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    calls.push(String(req.headers['x-amz-target']));
    req.resume();
    if (reply.hang === true) return;
    res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify(reply.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = localDynamoDbClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 1);
  return {
    client,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('SDK errors are mapped as the AWS key store maps them', () => {
  it('ConditionalCheckFailed with the old item (real DynamoDB returns it) answers the claim without a read', async () => {
    const stub = await stubDynamoDb({
      status: 400,
      body: {
        __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        message: 'The conditional request failed',
        Item: { id: { S: 'wh_x' }, token: { S: 't0' }, done: { BOOL: true }, expiresAtMs: { N: String(Date.now() + 60_000) } },
      },
    });
    const store = dynamoDbIdempotencyStore({ client: stub.client, tableName: 'dedup' });
    expect(await store.claim('wh_x', 't1', 60_000)).toBe('done');
    expect(stub.calls).toEqual(['DynamoDB_20120810.PutItem']);
    await store.release('wh_x', 't1'); // a failed condition is "not the holder", not an error
    expect(await store.renew!('wh_x', 't1', 60_000)).toBe(false);
    await stub.close();
  });

  it.each([
    ['throttling', 'ProvisionedThroughputExceededException'],
    ['a missing table', 'ResourceNotFoundException'],
    ['denied access', 'AccessDeniedException'],
  ])('%s rejects with the SDK error (the receiver answers 500, retried)', async (_what, type) => {
    const stub = await stubDynamoDb({ status: 400, body: { __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'no' } });
    const store = dynamoDbIdempotencyStore({ client: stub.client, tableName: 'dedup' });
    await expect(store.claim('wh_x', 't1', 60_000)).rejects.toMatchObject({ name: type });
    await expect(store.complete('wh_x', 't1', 60_000)).rejects.toMatchObject({ name: type });
    await stub.close();
  });

  it('a hung endpoint rejects at timeoutMs', async () => {
    const stub = await stubDynamoDb({ status: 200, hang: true });
    const store = dynamoDbIdempotencyStore({ client: stub.client, tableName: 'dedup', timeoutMs: 200 });
    await expect(store.claim('wh_x', 't1', 60_000)).rejects.toThrow();
    await stub.close();
  });
});

describe('dynamoDbIdempotencyStore against dynalite (real AWS SDK over HTTP)', () => {
  let server: DynamoDbServer;
  beforeAll(async () => {
    server = await startDynamoDbServer();
  });
  afterAll(async () => {
    await server?.stop();
    server?.client.destroy();
  });

  it('writes a TTL attribute in epoch seconds next to the millisecond lease', async () => {
    const store = dynamoDbIdempotencyStore({ client: server.client, tableName: server.tableName });
    const before = Date.now();
    await store.claim('wh_ttl', 't1', 60_000);
    const { Item } = await server.client.send(new GetItemCommand({ TableName: server.tableName, Key: { id: { S: 'wh_ttl' } }, ConsistentRead: true }));
    const ms = Number(Item?.expiresAtMs?.N);
    expect(ms).toBeGreaterThanOrEqual(before + 60_000);
    expect(Number(Item?.[DYNAMODB_TTL_ATTRIBUTE]?.N)).toBe(Math.ceil(ms / 1000));
    expect(Item?.token).toEqual({ S: 't1' });
    expect(Item?.done).toEqual({ BOOL: false });
  });

  describeStoreContract('dynamodb (dynalite)', {
    create: () => dynamoDbIdempotencyStore({ client: server.client, tableName: server.tableName }),
    stopServer: () => server.stop(),
  });
});
