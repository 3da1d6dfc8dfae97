/**
 * Lambda HTTP events shaped like AWS's documented examples ("Input format of a Lambda
 * function for proxy integration" for API Gateway REST, "Working with AWS Lambda proxy
 * integrations for HTTP APIs" payload 2.0, and "Invoking Lambda function URLs" request
 * payload), with the method, headers and body of the request under test filled in; and SQS
 * records and events shaped like the documented SQS examples.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, LambdaFunctionURLEvent, SQSEvent, SQSRecord } from 'aws-lambda';

export interface EventRequest {
  method: string;
  /** Header names as the client sent them. */
  headers: Record<string, string>;
  /** Text, or bytes (always delivered base64-encoded, as AWS does for binary bodies). */
  body?: string | Uint8Array;
  /** Deliver a text body base64-encoded too, as API Gateway / Function URLs do for non-text content types. */
  base64?: boolean;
}

function isBase64(request: EventRequest): boolean {
  return request.base64 === true || request.body instanceof Uint8Array;
}

function encodedBody(request: EventRequest): string | undefined {
  if (request.body === undefined) return undefined;
  if (request.body instanceof Uint8Array) return Buffer.from(request.body).toString('base64');
  return request.base64 ? Buffer.from(request.body, 'utf8').toString('base64') : request.body;
}

/** API Gateway REST API (v1) proxy event; REST APIs keep the client's header casing. */
export function restApiEvent(request: EventRequest): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    Accept: '*/*',
    Host: 'id.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'Kompliant-Webhooks/1.0',
    'X-Amzn-Trace-Id': 'Root=1-5e66d96f-7491f09xmpl79d18acf3d050',
    'X-Forwarded-For': '192.0.2.1',
    'X-Forwarded-Port': '443',
    'X-Forwarded-Proto': 'https',
    ...request.headers,
  };
  return {
    resource: '/webhooks/kompliant',
    path: '/webhooks/kompliant',
    httpMethod: request.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    requestContext: {
      accountId: '123456789012',
      apiId: 'id',
      authorizer: { claims: null, scopes: null },
      domainName: 'id.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'id',
      extendedRequestId: 'request-id',
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '192.0.2.1',
        user: null,
        userAgent: 'Kompliant-Webhooks/1.0',
        userArn: null,
      },
      path: '/webhooks/kompliant',
      protocol: 'HTTP/1.1',
      requestId: 'id=',
      requestTime: '04/Mar/2020:19:15:17 +0000',
      requestTimeEpoch: 1583349317135,
      resourceId: 'abc123',
      resourcePath: '/webhooks/kompliant',
      stage: '$default',
    },
    pathParameters: null,
    stageVariables: null,
    body: encodedBody(request) ?? null,
    isBase64Encoded: isBase64(request),
  };
}

function lowerCased(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

/** HTTP API (payload format 2.0) event; header names lower-cased, repeats comma-joined. */
export function httpApiEvent(request: EventRequest): APIGatewayProxyEventV2 {
  const body = encodedBody(request);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/webhooks/kompliant',
    rawQueryString: '',
    headers: lowerCased({
      accept: '*/*',
      host: 'id.execute-api.us-east-1.amazonaws.com',
      'user-agent': 'Kompliant-Webhooks/1.0',
      'x-amzn-trace-id': 'Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e',
      'x-forwarded-for': '192.0.2.1',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...request.headers,
    }),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api-id',
      domainName: 'id.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'id',
      http: {
        method: request.method,
        path: '/webhooks/kompliant',
        protocol: 'HTTP/1.1',
        sourceIp: '192.0.2.1',
        userAgent: 'Kompliant-Webhooks/1.0',
      },
      requestId: 'id',
      routeKey: '$default',
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: 1583348638390,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: isBase64(request),
  };
}

/** Lambda Function URL event (payload 2.0 with sentinel routeKey/stage). */
export function functionUrlEvent(request: EventRequest): LambdaFunctionURLEvent {
  const body = encodedBody(request);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: lowerCased({
      host: 'abcdefghij.lambda-url.us-west-2.on.aws',
      'user-agent': 'Kompliant-Webhooks/1.0',
      'x-amzn-tls-cipher-suite': 'ECDHE-RSA-AES128-GCM-SHA256',
      'x-amzn-tls-version': 'TLSv1.2',
      'x-amzn-trace-id': 'Root=1-62ecd163-5f302e550dcde3b12402207d',
      'x-forwarded-for': '123.123.123.123',
      'x-forwarded-port': '443',
      'x-forwarded-proto': 'https',
      ...request.headers,
    }),
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.us-west-2.on.aws',
      domainPrefix: 'abcdefghij',
      http: {
        method: request.method,
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '123.123.123.123',
        userAgent: 'Kompliant-Webhooks/1.0',
      },
      requestId: 'id',
      routeKey: '$default',
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: 1583348638390,
    },
    ...(body === undefined ? {} : { body }),
    isBase64Encoded: isBase64(request),
  };
}

/** Options of {@link sqsRecord}. */
export interface SqsRecordRequest {
  /** Default: a random UUID, as SQS assigns. */
  messageId?: string;
  /** Default: a standard queue; a name ending in `.fifo` adds the FIFO attributes. */
  queueArn?: string;
}

let sequence = 0;

/**
 * One record of an SQS-triggered invocation, shaped like AWS's documented example ("Using Lambda
 * with Amazon SQS", example standard and FIFO queue message events), its body the webhook's
 * request body as an API Gateway -> SQS integration enqueues it.
 */
export function sqsRecord(body: string, request: SqsRecordRequest = {}): SQSRecord {
  sequence += 1;
  const queueArn = request.queueArn ?? 'arn:aws:sqs:us-east-2:123456789012:kompliant-webhooks';
  const fifo = queueArn.endsWith('.fifo');
  return {
    messageId: request.messageId ?? randomUUID(),
    receiptHandle: `AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1545082649183',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1545082649185',
      ...(fifo ? { MessageGroupId: 'kompliant', SequenceNumber: `18849496460467696${String(sequence).padStart(3, '0')}`, MessageDeduplicationId: randomUUID() } : {}),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-2',
  };
}

/** An SQS-triggered invocation's event. */
export function sqsEvent(records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
