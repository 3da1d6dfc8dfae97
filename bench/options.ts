/** Command-line options of `npm run bench`. */
export interface BenchOptions {
  /** `--smoke`: few iterations and a small soak, for CI; asserts nothing about time. */
  smoke: boolean;
  /** `--json`: print the results as JSON instead of markdown. */
  json: boolean;
  /** `--json=FILE`: also write the results as JSON to FILE (markdown still goes to stdout). */
  jsonFile: string | undefined;
  /** `--only=cpu,http,keys,soak,stores,sql,inbox`: run a subset of the sections. */
  only: ReadonlySet<BenchSection>;
}

/** The sections `--only` can select, in run order. */
export const BENCH_SECTIONS = ['cpu', 'http', 'keys', 'soak', 'stores', 'sql', 'inbox'] as const;
/** One of {@link BENCH_SECTIONS}. */
export type BenchSection = (typeof BENCH_SECTIONS)[number];

const USAGE = 'usage: npm run bench -- [--smoke] [--json | --json=FILE] [--only=cpu,http,keys,soak,stores,sql,inbox]';

/** Parses `process.argv`-style arguments; throws a TypeError with the usage on anything unknown. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let smoke = false;
  let json = false;
  let jsonFile: string | undefined;
  let only = new Set<BenchSection>(BENCH_SECTIONS);
  for (const arg of argv) {
    if (arg === '--smoke') smoke = true;
    else if (arg === '--json') json = true;
    else if (arg.startsWith('--json=') && arg.length > '--json='.length) jsonFile = arg.slice('--json='.length);
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',');
      only = new Set();
      for (const name of names) {
        if (!(BENCH_SECTIONS as readonly string[]).includes(name)) throw new TypeError(`unknown section ${name}\n${USAGE}`);
        only.add(name as BenchSection);
      }
    } else {
      throw new TypeError(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  return { smoke, json, jsonFile, only };
}
