// The package version the CLI prints for `--version`, read from this package's package.json.
import { readFileSync } from 'node:fs';

// The built CLI is dist/cli.js (package.json one level up); from source it is src/cli/version.ts (two up).
const CANDIDATES = ['../package.json', '../../package.json'];

/** The `version` field of this package's package.json, or `unknown` when it cannot be read. */
export function packageVersion(): string {
  for (const candidate of CANDIDATES) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'kompliant-webhooks' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there: try the next place.
    }
  }
  return 'unknown';
}
