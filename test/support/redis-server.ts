import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

/** The redis-server binary on PATH, or undefined. */
export function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Why the Redis tests cannot run here, or undefined when they can. Outside CI a missing binary
 * skips them (loudly); in CI (CI=true) it is a failure, reported by {@link startRedisServer}.
 */
export function redisSkipReason(): string | undefined {
  if (findRedisServer() !== undefined || process.env.CI === 'true') return undefined;
  return 'SKIPPED: no redis-server binary on PATH (apt-get install -y redis-server); in CI this fails instead';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A throwaway redis-server on a free loopback port, without persistence. */
export interface RedisServer {
  port: number;
  /** SIGSTOP: the server keeps its connections but answers nothing (a hang, not a refusal). */
  pause(): void;
  /** SIGCONT after {@link pause}. */
  resume(): void;
  /** SIGKILL: connections drop, and without persistence every key is gone. */
  kill(): Promise<void>;
  /** Starts a fresh (empty) server on the same port after {@link kill}. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function spawnRedis(binary: string, port: number): Promise<ChildProcess> {
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  return child;
}

const exited = (child: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

export async function startRedisServer(): Promise<RedisServer> {
  const binary = findRedisServer();
  if (binary === undefined) throw new Error('redis-server is not installed: CI must install it (see .ci/run)');
  const port = await freePort();
  let child = await spawnRedis(binary, port);
  return {
    port,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    kill: () => exited(child, 'SIGKILL'),
    async restart() {
      child = await spawnRedis(binary, port);
    },
    async stop() {
      child.kill('SIGCONT');
      await exited(child, 'SIGTERM');
    },
  };
}
