import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  file: string;
  parsed: ParsedMail;
}

export interface MailCatcher {
  readonly port: number;
  readonly dir: string;
  close(): Promise<void>;
}

/** A local SMTP server for `demo`: every message is saved as an .eml file and handed to `onMail`. */
export async function startMailCatcher(dir: string, onMail: (mail: CaughtMail) => void): Promise<MailCatcher> {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { port, dir, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
