/** A real SMTP server for the benchmark that notes when each message was accepted and which events it carries. */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface AcceptedMail {
  /** When the whole message was received and is about to be answered 250 (unix ms, sub-millisecond). */
  acceptedAt: number;
  /** Task ids of `failed=` in X-Batchwatch-Events. */
  failedIds: number[];
}

export interface SmtpSink {
  port: number;
  mails: AcceptedMail[];
  close(): Promise<void>;
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const mails: AcceptedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let head = '';
      stream.on('data', (chunk: Buffer) => {
        if (head.length < 64 * 1024) head += chunk.toString('latin1');
      });
      stream.on('end', () => {
        const header = /^X-Batchwatch-Events:(.*(?:\r?\n[ \t].*)*)/im.exec(head)?.[1]?.replace(/\r?\n[ \t]/g, ' ') ?? '';
        const failed = /failed=([\d,\s]+)/.exec(header)?.[1] ?? '';
        mails.push({
          acceptedAt: performance.timeOrigin + performance.now(),
          failedIds: failed
            .split(',')
            .map((id) => Number(id.trim()))
            .filter((id) => Number.isInteger(id) && id > 0),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
