/**
 * AWS Lambda behind API Gateway (REST or HTTP API) or a Function URL.
 * Run locally: `npx tsx examples/lambda.ts` (in this repository, after `npm run build`): invokes
 * the handler with a Function URL event, body base64-encoded as Lambda delivers non-text content types.
 */
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { pathToFileURL } from 'node:url';
import { memoryKeyStore, type KompliantEvent } from 'kompliant-webhooks';
import { createLambdaHandler } from 'kompliant-webhooks/lambda';
import { createTestWebhook, generateSharedSecret } from 'kompliant-webhooks/testing';

// Module scope: created once per cold start. The key store (and any cache in front of it, such
// as a Secrets Manager store's) lives across warm invocations instead of being refetched.
const secret = process.env.KOMPLIANT_WEBHOOK_SECRET ?? generateSharedSecret();
export const handled: KompliantEvent[] = [];

export const handler = createLambdaHandler<LambdaFunctionURLEvent>({
  keyStore: memoryKeyStore({ whk_20251121_01: secret }),
  async onEvent(event) {
    handled.push(event); // e.g. await sqs.send(...): answer 200 only once the event is safe
  },
  onError(error) {
    console.warn(JSON.stringify({ msg: 'kompliant webhook rejected', code: error.code }));
  },
});

/** A Function URL event as Lambda delivers it. */
function functionUrlEvent(body: string): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', host: 'abcdefghij.lambda-url.us-west-2.on.aws' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abcdefghij',
      domainName: 'abcdefghij.lambda-url.us-west-2.on.aws',
      domainPrefix: 'abcdefghij',
      http: { method: 'POST', path: '/', protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'Kompliant' },
      requestId: 'id',
      routeKey: '$default',
      stage: '$default',
      time: '12/Mar/2020:19:03:58 +0000',
      timeEpoch: 1583348638390,
    },
    body: Buffer.from(body).toString('base64'),
    isBase64Encoded: true,
  };
}

/** Invokes the handler twice: a valid webhook, then one with an unknown key id. */
export async function demo(log: (line: string) => void = console.log): Promise<{ statuses: number[] }> {
  const statuses: number[] = [];
  for (const keyId of ['whk_20251121_01', 'whk_20251121_02']) {
    const envelope = createTestWebhook({ secret: keyId.endsWith('01') ? secret : generateSharedSecret(), keyId });
    const result = await handler(functionUrlEvent(JSON.stringify(envelope)));
    statuses.push(result.statusCode);
    log(`${result.statusCode} ${result.body}`);
  }
  return { statuses };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await demo();
