/**
 * The CLI's one way out to the terminal: once installed, everything written to stdout and stderr (a
 * command's report, an error line, a library's warning, a crash) is scrubbed of registered secrets, so a
 * command added later cannot forget to.
 */
import { scrubSecrets } from '../redact/secrets.ts';

let installed = false;

function scrubbingWrite(stream: NodeJS.WriteStream): void {
  const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string') return write(scrubSecrets(chunk), ...rest);
    if (chunk instanceof Uint8Array) {
      const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
      const scrubbed = scrubSecrets(text);
      return write(scrubbed === text ? chunk : Buffer.from(scrubbed, 'utf8'), ...rest);
    }
    return write(chunk, ...rest);
  }) as NodeJS.WriteStream['write'];
}

/**
 * Scrubs process.stdout and process.stderr from now on. A crash (an uncaught exception or unhandled
 * rejection, which Node would print past these streams) is printed scrubbed and exits 1, as Node would.
 */
export function installScrubbedOutput(): void {
  if (installed) return;
  installed = true;
  scrubbingWrite(process.stdout);
  scrubbingWrite(process.stderr);
  process.on('uncaughtException', (error: unknown) => {
    const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
    process.stderr.write(`batchwatch: fatal error: ${text}\n`);
    process.exit(1);
  });
}
