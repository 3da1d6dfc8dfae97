// The CLI from the packed tarball installed alone (no optional peer) in an empty folder: every command that needs no peer runs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// Runs against the built package (npm test builds dist/ first). `npm install` gets the tarball
// and nothing else: the package has no dependencies and its peers are optional, so npm installs
// none of them (--offline: the registry is never asked).
const root = fileURLToPath(new URL('../..', import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
// The peers a user may not have; none may be in the app's node_modules for this test to mean anything.
const OPTIONAL_PEERS = Object.keys(
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> }).peerDependencies,
);

let tmp = '';
let appDir = '';

beforeAll(() => {
  if (!existsSync(join(root, 'dist/cli.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does it first)');
  tmp = mkdtempSync(join(tmpdir(), 'kw-bare-cli-'));
  execFileSync('npm', ['pack', '--pack-destination', tmp, '--ignore-scripts', '--silent'], { cwd: root, stdio: 'pipe' });
  const tarball = readdirSync(tmp).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error('npm pack wrote no tarball');
  appDir = join(tmp, 'app');
  mkdirSync(appDir);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(tmp, tarball)], { cwd: appDir, stdio: 'pipe' });
}, 120_000);

afterAll(() => {
  if (tmp !== '') rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the installed bin the way npm links it (node_modules/.bin), in the app folder, with only PATH and `env`. */
function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Run {
  const bin = join(appDir, 'node_modules/.bin/kompliant-webhooks');
  const result = spawnSync(bin, args, {
    cwd: appDir,
    // The bin's `#!/usr/bin/env node` finds the node running this test first.
    env: { PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`, ...options.env },
    input: options.input ?? '',
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the CLI installed alone from the tarball', { timeout: 60_000 }, () => {
  it('has no optional peer installed beside it', () => {
    const installed = readdirSync(join(appDir, 'node_modules'));
    expect(installed.filter((name) => !name.startsWith('.'))).toEqual(['kompliant-webhooks']);
    for (const peer of OPTIONAL_PEERS) expect(existsSync(join(appDir, 'node_modules', peer))).toBe(false);
  });

  it('runs --help, --version and send --help', () => {
    const help = cli(['--help']);
    expect(help.stderr).toBe('');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kompliant-webhooks <command>/);
    expect(cli(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    const send = cli(['send', '--help']);
    expect(send.code).toBe(0);
    expect(send.stdout).toMatch(/^Usage: kompliant-webhooks send/);
    // The help says what the command really does: the account id is always sb_TestAccount.
    expect(send.stdout).toContain('--account-id ID      account_id (default sb_TestAccount');
    expect(send.stdout).not.toContain('random');
  });

  it('keygen, seal, open and detect round-trip an envelope with a generated key', () => {
    const keygen = cli(['keygen']);
    expect(keygen.code).toBe(0);
    const secret = keygen.stdout.trim();
    expect(Buffer.from(secret, 'base64')).toHaveLength(32);
    const env = { KOMPLIANT_WEBHOOK_SECRET: secret };
    const payload = { version: '1.0', subject_record_id: 'sr_1' };
    const sealed = cli(['seal', '--key-id', 'whk_20251121_01', '--event-type', 'DOCUMENT_UPLOADED'], { env, input: JSON.stringify(payload) });
    expect(sealed.stderr).toBe('');
    expect(sealed.code).toBe(0);
    const envelope = JSON.parse(sealed.stdout) as Record<string, unknown>;
    expect(envelope).toMatchObject({ key_id: 'whk_20251121_01', event_type: 'DOCUMENT_UPLOADED', account_id: 'sb_TestAccount' });
    const envelopeFile = join(appDir, 'envelope.json');
    writeFileSync(envelopeFile, sealed.stdout);

    const opened = cli(['open', '--envelope-file', envelopeFile], { env });
    expect(opened.stderr).toBe('');
    expect(opened.code).toBe(0);
    expect(JSON.parse(opened.stdout)).toMatchObject({ key_id: 'whk_20251121_01', data: payload });

    const detected = cli(['detect', '--envelope-file', envelopeFile], { env });
    expect(detected.stderr).toBe('');
    expect(detected.code).toBe(0);
    expect(detected.stdout).toContain('AUTHENTICATES  layout: nonce-ciphertext-tag (the default)');
  });

  it('a command that needs a missing optional peer names the package to install and exits non-zero', () => {
    const rotate = cli(['rotate', '--account-id', 'lv_Mine', '--sink', 'aws-secrets-manager']);
    expect(rotate.code).toBe(2);
    expect(rotate.stderr).toContain(
      'rotate: --sink aws-secrets-manager needs the package @aws-sdk/client-secrets-manager, which is not installed: npm install @aws-sdk/client-secrets-manager',
    );
    expect(rotate.stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    const inbox = cli(['inbox', 'list'], { env: { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' } });
    expect(inbox.code).toBe(2);
    expect(inbox.stderr).toContain('inbox: inbox needs the package pg-boss, which is not installed: npm install pg-boss');
  });
});
