import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('examples/demo.ts (npm start)', () => {
  it('runs the full loop and exits 0 by itself', { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: ROOT, stdio: 'pipe' });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.resume();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout).toMatch(/rotation +whk_\d{8}_02 ACTIVE; keeping whk_\d{8}_01/);
    expect(stdout).toMatch(/delivery log .*attempt 1 -> 500, attempt 2 -> 200/);
  });
});
