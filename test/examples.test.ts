import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);

describe('examples run', () => {
  it('npm start (examples/demo.ts) delivers 3 events, rejects 2 and exits 0', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: root, timeout: 30_000 });
    expect(stdout).toContain('receiver: decrypted WORKFLOW_COMPLETED');
    expect(stdout).toContain('receiver: rejected with DECRYPTION_FAILED (401)');
    expect(stdout).toContain('receiver: rejected with UNKNOWN_KEY (401)');
    expect(stdout).toContain('Demo finished');
  }, 40_000);

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
