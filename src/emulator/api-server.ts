// The emulator's HTTP server for the key management API, with KSig1 verification and injectable faults.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readNodeBody, nodeHeader } from '../http/node-body.js';
import { writeNodeAnswer } from '../http/node-answer.js';
import { parseJsonObject } from '../wire/json.js';
import { KEY_API_METHODS, KEY_API_VERSION, type KeyApiErrorEntry, type KeyApiMethod } from '../key-api/types.js';
import { verifyKsig1, type KompliantCredentials } from '../key-api/ksig.js';
import { randomId } from '../sealing/seal.js';
import { ApiRuleError, type ApiState } from './api-state.js';
import { EmitError, type DeliveryQueue } from './sender.js';

/** API credentials the emulator accepts, and the accounts they may manage. */
export interface EmulatorCredential extends KompliantCredentials {
  accountIds: string[];
}

/** A fault to answer instead of the real method, to exercise client retries and rotation failures. */
export interface InjectedFault {
  /** The method (e.g. `webhook.key.activate`) that fails. */
  method: KeyApiMethod;
  /** The HTTP status answered. Default 500. */
  status?: number;
  /** How many calls fail before the method works again. Default 1. */
  times?: number;
}

const BODY_LIMITS = { maxBodyBytes: 1024 * 1024, readTimeoutMs: 10_000 };
/** Compared against when the API key is unknown, so an unknown key costs the same work. */
const DUMMY: KompliantCredentials = { apiKey: 'sb_unknown', secretKey: Buffer.alloc(33).toString('base64'), authToken: 'unknown' };

function sendError(res: ServerResponse, status: number, entry: KeyApiErrorEntry): void {
  writeNodeAnswer(res, { status, headers: {}, body: { meta: { status: 'ERROR', version: KEY_API_VERSION }, errors: [entry] } });
}

function sendSuccess(res: ServerResponse, data: unknown): void {
  writeNodeAnswer(res, { status: 200, headers: {}, body: { meta: { status: 'SUCCESS', trace_id: randomId('trc_'), version: KEY_API_VERSION }, data } });
}

/** The request body as a JSON object, or undefined when it is too large, late, or not an object. */
async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  try {
    return parseJsonObject(await readNodeBody(req, BODY_LIMITS), 'INVALID_JSON');
  } catch {
    return undefined;
  }
}

/** The emulator's HTTP server: the four key API methods plus the `/_emulator/*` control endpoints. */
export function createApiServer(state: ApiState, queue: DeliveryQueue, credentials: readonly EmulatorCredential[]): {
  server: Server;
  injectFault(fault: InjectedFault): void;
} {
  const byApiKey = new Map(credentials.map((c) => [c.apiKey, c]));
  const faults = new Map<string, { status: number; remaining: number }>();
  const methods = new Set<string>(KEY_API_METHODS);

  function authenticate(req: IncomingMessage): ReadonlySet<string> | undefined {
    const header = (name: string): string | undefined => nodeHeader(req, name);
    const apiKey = header('x-api-key');
    const known = apiKey === undefined ? undefined : byApiKey.get(apiKey);
    const ok = verifyKsig1(header, known ?? DUMMY);
    return ok && known !== undefined ? new Set(known.accountIds) : undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://emulator').pathname;
    const name = path.slice(1);
    const isControl = name === '_emulator/emit' || name === '_emulator/deliveries';
    if (!methods.has(name) && !isControl) {
      sendError(res, 404, { code: 'NOT_FOUND', message: 'No such method' });
      return;
    }
    const expectedVerb = name === '_emulator/deliveries' ? 'GET' : 'POST';
    if (req.method !== expectedVerb) {
      res.setHeader('allow', expectedVerb);
      sendError(res, 405, { code: 'METHOD_NOT_ALLOWED', message: `Use ${expectedVerb}` });
      return;
    }
    const allowed = authenticate(req);
    if (allowed === undefined) {
      req.resume();
      sendError(res, 401, { code: 'UNAUTHORIZED', message: 'KSig1 authentication failed' });
      return;
    }
    if (name === '_emulator/deliveries') {
      const query = new URL(req.url ?? '/', 'http://emulator').searchParams;
      const eventId = query.get('event_id') ?? undefined;
      const records = queue.log(eventId === undefined ? {} : { eventId }).filter((r) => allowed.has(r.accountId));
      sendSuccess(res, { deliveries: records });
      return;
    }
    const body = await readJsonObject(req);
    if (body === undefined) {
      sendError(res, 400, { code: 'BAD_REQUEST', message: 'The body must be a JSON object' });
      return;
    }
    if (name === '_emulator/emit') {
      const accountId = Object.hasOwn(body, 'account_id') ? body.account_id : undefined;
      if (typeof accountId !== 'string' || !allowed.has(accountId)) {
        sendError(res, 400, { code: 'ENTITY_NOT_FOUND', message: 'Account not found', entity_type: 'Account' });
        return;
      }
      try {
        const emitted = queue.emit({
          accountId,
          eventType: body.event_type as string,
          data: Object.hasOwn(body, 'data') ? body.data : undefined,
        });
        sendSuccess(res, { event_id: emitted.eventId, key_id: emitted.keyId, deliveries: emitted.deliveries.length });
      } catch (error) {
        if (!(error instanceof EmitError)) throw error;
        sendError(res, 400, { code: error.code, message: error.message });
      }
      return;
    }
    const fault = faults.get(name);
    if (fault !== undefined && fault.remaining > 0) {
      fault.remaining--;
      sendError(res, fault.status, { code: 'INTERNAL_ERROR', message: 'Injected fault' });
      return;
    }
    try {
      // Synchronous from here on: each method is one atomic step of the state.
      switch (name as KeyApiMethod) {
        case 'webhook.key.create':
          sendSuccess(res, state.createKey(body, allowed));
          break;
        case 'webhook.key.activate':
          sendSuccess(res, state.activateKey(body, allowed));
          break;
        case 'webhook.key.get':
          sendSuccess(res, state.getKey(body, allowed));
          break;
        case 'webhook.config.create':
          sendSuccess(res, state.createConfig(body, allowed));
          break;
      }
    } catch (error) {
      if (!(error instanceof ApiRuleError)) throw error;
      sendError(res, 400, error.entry);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendError(res, 500, { code: 'INTERNAL_ERROR', message: 'Emulator error' });
      else res.destroy();
    });
  });
  return {
    server,
    injectFault(fault) {
      if (!methods.has(fault.method)) throw new TypeError('injectFault: method must be one of the four key API methods');
      faults.set(fault.method, { status: fault.status ?? 500, remaining: fault.times ?? 1 });
    },
  };
}
