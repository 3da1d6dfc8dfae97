// The `send` command: seals an envelope and POSTs it to a receiver.
import type { CliCommand } from '../command.js';
import { SEAL_HELP, SEAL_OPTIONS, sealFromOptions } from './seal.js';
import { EXIT, parseOptions, UsageError } from '../args.js';

/** `send`: POST a sealed test event to a receiver. */
export const sendCommand: CliCommand = {
  name: 'send',
  summary: 'POST a sealed test event to a URL, like the sender does',
  help: `Usage: kompliant-webhooks send --url URL [options] < payload.json
       kompliant-webhooks send --url URL --event-type TYPE [options] < /dev/null

Seals the payload (as 'seal' does; without one, a realistic sample of --event-type) and POSTs the envelope as application/json to URL. Prints the
receiver's status and body. Exit 0 on HTTP 200, 1 on any other status or no answer.

  --url URL            the receiver's webhook URL (required)
  --timeout-ms N       give up after N ms (default 30000, the sender's limit)

${SEAL_HELP}`,
  async run(args, io) {
    const values = parseOptions(args, { ...SEAL_OPTIONS, url: { type: 'string' }, 'timeout-ms': { type: 'string' } });
    if (values.url === undefined) throw new UsageError('--url is required');
    let url: URL;
    try {
      url = new URL(values.url);
    } catch {
      throw new UsageError('--url is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError('--url must be http(s)');
    const timeoutMs = Number(values['timeout-ms'] ?? 30_000);
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError('--timeout-ms must be a positive integer');
    const envelope = await sealFromOptions(values, io);
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(envelope),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = await response.text();
      io.stdout(`HTTP ${response.status} ${body}\n`);
      io.stderr(`sent ${envelope.id} (${envelope.event_type}, ${envelope.key_id})\n`);
      return response.status === 200 ? EXIT.OK : EXIT.FAILED;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'error';
      io.stderr(`no answer from the receiver (${name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : 'network error'})\n`);
      return EXIT.FAILED;
    }
  },
};
