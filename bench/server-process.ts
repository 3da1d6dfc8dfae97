import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ParentMessage, ServerKind, ServerSample, StoreEndpoints } from './http-server.js';

/** A bench server running in a child process. */
export interface ServerProcess {
  kind: ServerKind;
  /** The server process's id. */
  pid: number;
  url: string;
  /** Memory samples taken since the previous call. */
  takeSamples(): Promise<ServerSample[]>;
  /** Requests served and CPU time (user + system, microseconds) the server process used so far. */
  usage(): Promise<{ requests: number; cpuMicros: number }>;
  stop(): Promise<void>;
}

function nextMessage(child: ChildProcess, type: ChildMessage['type']): Promise<ChildMessage> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: ChildMessage): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null): void => {
      child.off('message', onMessage);
      reject(new Error(`bench server exited early (code ${code})`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks bench/http-server.ts (through tsx) and starts a server of `kind` on 127.0.0.1 (`stores`: where the shared dedup stores listen; `handlerMs`: the slow handler's time). */
export async function startServerProcess(kind: ServerKind, secret: string, keyId: string, stores?: StoreEndpoints, handlerMs?: number): Promise<ServerProcess> {
  const child = fork(fileURLToPath(new URL('./http-server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const send = (message: ParentMessage): void => {
    child.send(message);
  };
  const listening = nextMessage(child, 'listening');
  send({ type: 'start', kind, secret, keyId, ...(stores === undefined ? {} : { stores }), ...(handlerMs === undefined ? {} : { handlerMs }) });
  const message = await listening;
  if (message.type !== 'listening') throw new Error('unexpected message');
  return {
    kind,
    pid: child.pid ?? -1,
    url: `http://127.0.0.1:${message.port}/webhook`,
    async takeSamples() {
      const reply = nextMessage(child, 'samples');
      send({ type: 'samples' });
      const answer = await reply;
      return answer.type === 'samples' ? answer.samples : [];
    },
    async usage() {
      const reply = nextMessage(child, 'usage');
      send({ type: 'usage' });
      const answer = await reply;
      if (answer.type !== 'usage') throw new Error('unexpected message');
      return { requests: answer.requests, cpuMicros: answer.cpuMicros };
    },
    stop() {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once('exit', () => resolve());
        child.kill();
      });
    },
  };
}
