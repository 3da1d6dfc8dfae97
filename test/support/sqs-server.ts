import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';

/** One message the fake accepted. */
export interface FakeSqsMessage {
  messageId: string;
  queueUrl: string;
  body: string;
  attributes: Record<string, string>;
  deduplicationId: string | undefined;
  groupId: string | undefined;
}

/**
 * A local HTTP server speaking the SQS JSON protocol (awsJson1_0) for SendMessage, with FIFO
 * deduplication by MessageDeduplicationId, so tests run the real SDK client (signing, MD5 checks
 * of body and attributes, retries) against it.
 */
export interface FakeSqs {
  readonly url: string;
  /** Accepted messages (a FIFO duplicate is answered but not kept). */
  readonly messages: FakeSqsMessage[];
  /** SendMessage calls received, duplicates included. */
  calls: number;
  /** When true, requests are never answered. */
  hang: boolean;
  /** When set, every call answers this AWS error type with status 500. */
  failWith: string | undefined;
  queueUrl(name: string): string;
  client(): SQSClient;
  close(): Promise<void>;
}

type WireAttribute = { DataType: string; StringValue?: string };

/** SQS's MD5 of message attributes: each attribute, sorted by name, length-prefixed fields. */
function md5OfAttributes(attributes: Record<string, WireAttribute>): string {
  const hash = createHash('md5');
  const field = (value: string): void => {
    const bytes = Buffer.from(value, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  for (const name of Object.keys(attributes).toSorted()) {
    const attribute = attributes[name]!;
    field(name);
    field(attribute.DataType);
    hash.update(Buffer.from([1]));
    field(attribute.StringValue ?? '');
  }
  return hash.digest('hex');
}

export async function startFakeSqs(): Promise<FakeSqs> {
  const hung: ServerResponse[] = [];
  const seen = new Map<string, string>();
  let next = 0;
  const fake = {
    url: '',
    messages: [] as FakeSqsMessage[],
    calls: 0,
    hang: false,
    failWith: undefined as string | undefined,
  };
  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const handle = (req: IncomingMessage, raw: string, res: ServerResponse): void => {
    if (req.headers['x-amz-target'] !== 'AmazonSQS.SendMessage') {
      send(res, 400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: 'Only SendMessage is faked' });
      return;
    }
    fake.calls += 1;
    if (fake.hang) {
      hung.push(res);
      return;
    }
    if (fake.failWith !== undefined) {
      send(res, 500, { __type: `com.amazonaws.sqs#${fake.failWith}`, message: 'fake failure' });
      return;
    }
    const input = JSON.parse(raw) as {
      QueueUrl: string;
      MessageBody: string;
      MessageAttributes?: Record<string, WireAttribute>;
      MessageDeduplicationId?: string;
      MessageGroupId?: string;
    };
    const attributes = input.MessageAttributes ?? {};
    const dedupKey = input.MessageDeduplicationId === undefined ? undefined : `${input.QueueUrl}\0${input.MessageDeduplicationId}`;
    let messageId = dedupKey === undefined ? undefined : seen.get(dedupKey);
    if (messageId === undefined) {
      next += 1;
      messageId = `00000000-0000-4000-8000-${String(next).padStart(12, '0')}`;
      if (dedupKey !== undefined) seen.set(dedupKey, messageId);
      fake.messages.push({
        messageId,
        queueUrl: input.QueueUrl,
        body: input.MessageBody,
        attributes: Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, value.StringValue ?? ''])),
        deduplicationId: input.MessageDeduplicationId,
        groupId: input.MessageGroupId,
      });
    }
    send(res, 200, {
      MessageId: messageId,
      MD5OfMessageBody: createHash('md5').update(input.MessageBody, 'utf8').digest('hex'),
      ...(Object.keys(attributes).length > 0 ? { MD5OfMessageAttributes: md5OfAttributes(attributes) } : {}),
    });
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(fake, {
    queueUrl: (name: string) => `${fake.url}/123456789012/${name}`,
    client: () =>
      new SQSClient({
        endpoint: fake.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
        maxAttempts: 1,
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hung) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
