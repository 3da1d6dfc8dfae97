// A throwaway PostgreSQL cluster for tests: initdb + pg_ctl in a temporary folder, unix socket only, removed at the end.
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The folder holding `initdb` and `pg_ctl`: $PG_BIN, else PATH, else the newest Debian
 * `postgresql` package's folder (/usr/lib/postgresql/<major>/bin, not on PATH there).
 */
export function findPostgresBin(): string | undefined {
  const candidates = [process.env.PG_BIN ?? '', ...(process.env.PATH ?? '').split(delimiter)];
  try {
    const majors = readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).toSorted((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => `/usr/lib/postgresql/${major}/bin`));
  } catch {
    // not a Debian-style install
  }
  return candidates.find((dir) => dir !== '' && executable(join(dir, 'initdb')) && executable(join(dir, 'pg_ctl')));
}

/** Why the PostgreSQL tests cannot run here, or undefined. Outside CI a missing install skips them (loudly); in CI it fails. */
export function postgresSkipReason(): string | undefined {
  if (findPostgresBin() !== undefined || process.env.CI === 'true') return undefined;
  return 'SKIPPED: no initdb/pg_ctl (apt-get install -y postgresql); in CI this fails instead';
}

/**
 * How to connect to a throwaway cluster at `address` (its socket folder and port): user and
 * database `postgres`, no password. Spread it into a `pg.Pool` config.
 */
export function postgresConnection(address: { host: string; port: number }): { host: string; port: number; user: string; database: string } {
  return { host: address.host, port: address.port, user: 'postgres', database: 'postgres' };
}

/** A running throwaway cluster. */
export interface PostgresServer {
  /** The socket folder: pass the server to {@link postgresConnection} for a pg config. */
  host: string;
  port: number;
  /** Stops the server at once (`-m immediate`, like a crash), keeping the data. */
  stop(): Promise<void>;
  /** Starts it again on the same data after {@link stop}. */
  start(): Promise<void>;
  /** Stops the server and deletes the folder. */
  remove(): Promise<void>;
}

/**
 * Creates a cluster in a fresh temporary folder and starts it, listening on a unix socket in
 * that folder only (no TCP). As root (CI), initdb and pg_ctl run as the `postgres` user, since
 * PostgreSQL refuses to run as root. Durability is off (fsync, synchronous_commit): a test
 * database. Connect as user `postgres` to database `postgres`, no password.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  if (bin === undefined) throw new Error('PostgreSQL is not installed: CI must install it (see .ci/run)');
  const dir = mkdtempSync(join(tmpdir(), 'kw-pg-'));
  const data = join(dir, 'data');
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const pg = (tool: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: dir }) : run(join(bin, tool), args, { cwd: dir });
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = 5432; // only names the socket file (.s.PGSQL.5432 in `dir`): no TCP listener
  const options = [
    `-k ${dir}`,
    `-p ${port}`,
    "-c listen_addresses=''",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=200',
  ].join(' ');
  const start = async (): Promise<void> => {
    await pg('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  };
  const stop = async (): Promise<void> => {
    await pg('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
  };
  await start();
  return {
    host: dir,
    port,
    stop,
    start,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
