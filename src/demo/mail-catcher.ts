/** A local SMTP server for `demo` and `simulator`: every message is saved as an .eml file and handed to `onMail`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** Where `batchwatch simulator` catches mail, and where config/batchwatch.yaml sends it. */
export const DEFAULT_MAIL_CATCHER_PORT = 2525;

export interface CaughtMail {
  file: string;
  parsed: ParsedMail;
}

export interface MailCatcher {
  readonly port: number;
  readonly dir: string;
  close(): Promise<void>;
}

export interface MailCatcherOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

/** Rejects with the listen error (code EADDRINUSE when the port is taken). */
export async function startMailCatcher(
  dir: string,
  onMail: (mail: CaughtMail) => void,
  options: MailCatcherOptions = {},
): Promise<MailCatcher> {
  mkdirSync(dir, { recursive: true });
  let count = 0;
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const file = join(dir, `${String(++count).padStart(3, '0')}.eml`);
        writeFileSync(file, raw);
        simpleParser(raw)
          .then((parsed) => onMail({ file, parsed }))
          .catch(() => undefined)
          .finally(() => callback());
      });
    },
  });
  // smtp-server re-emits its listener's errors; without a listener they would crash the process.
  let listenError: ((error: Error) => void) | null = null;
  server.on('error', (error: Error) => listenError?.(error));
  await new Promise<void>((resolve, reject) => {
    listenError = reject;
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  listenError = null;
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, dir, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
