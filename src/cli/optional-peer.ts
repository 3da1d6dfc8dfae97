// Optional peer dependencies in the CLI: loaded by the one command that needs them, a missing one named with its install command.
import { UsageError } from './args.js';

/** True when `error` is Node's "cannot find package" for `packageName` itself (not for one of its own dependencies). */
function isMissingPackage(error: unknown, packageName: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    (message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`))
  );
}

/**
 * Runs `load`, a dynamic `import()` of a module that imports the optional peer `packageName`.
 * When that package is not installed, throws a {@link UsageError} saying what `needs` it and
 * the command that installs it; any other failure is thrown as it is. The `import()` must stay
 * in the command that needs the peer (the CLI bundle keeps it a separate chunk), so every other
 * command starts without the package.
 */
export async function importOptionalPeer<T>(load: () => Promise<T>, packageName: string, needs: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissingPackage(error, packageName)) {
      throw new UsageError(`${needs} needs the package ${packageName}, which is not installed: npm install ${packageName}`);
    }
    throw error;
  }
}
