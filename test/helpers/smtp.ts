import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface SmtpFailure {
  code: number;
  message: string;
  /** How many transactions get this answer before the server accepts again. */
  times: number;
  /** Where the answer is given; MAIL FROM by default. */
  at?: 'mail' | 'rcpt' | 'data';
}

export interface ReceivedMessage {
  envelope: { mailFrom: string; rcptTo: string[] };
  parsed: ParsedMail;
  raw: string;
  /** The authenticated user, if the client logged in. */
  user: string | undefined;
  /** Whether the session was encrypted (implicit TLS or STARTTLS). */
  secure: boolean;
}

export interface SmtpServerOptions {
  failFirst?: SmtpFailure;
  rejectRecipients?: RegExp;
  authRequired?: { user: string; pass: string };
  /** A careless server: its "535 Authentication failed" answer quotes the password it was given. */
  echoRejectedPassword?: boolean;
  /** Offer only AUTH XOAUTH2 and accept `user` with a token `accepts` approves (a rejection answers like Gmail/Microsoft: 334 + JSON, then 535). */
  xoauth2?: { user: string; accepts: (token: string) => boolean };
  /** TLS material; `implicit` for smtps://, otherwise STARTTLS is offered. Without it TLS is off. */
  tls?: { key: string; cert: string; implicit: boolean };
}

export interface TestSmtpServer {
  readonly port: number;
  /** smtp://127.0.0.1:PORT (smtps:// with implicit TLS). */
  readonly url: string;
  readonly messages: ReceivedMessage[];
  /** Transactions answered with the configured failure so far. */
  readonly failuresServed: number;
  /** Every AUTH attempt: method, user, the XOAUTH2 token and whether it was accepted. */
  readonly logins: { method: string; user: string; token?: string; ok: boolean }[];
  waitForMessages(n: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  setFailure(failure: SmtpFailure | null): void;
  setRejectRecipients(pattern: RegExp | null): void;
  /** From now on a login must use these credentials (authRequired must have been set). */
  setAuthRequired(credentials: { user: string; pass: string }): void;
  /** Never answer at this stage (a server that stalls), until set back to null. Resolves `hanging`. */
  setHang(stage: 'mail' | 'data' | null): void;
  /** Resolves once a client is being held by setHang. */
  hanging(): Promise<void>;
  /** Stops listening and drops open connections (clients then get connection refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** A real SMTP server on 127.0.0.1 that parses and records every accepted message. */
export async function startSmtpServer(opts: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMessage[] = [];
  const logins: { method: string; user: string; token?: string; ok: boolean }[] = [];
  const waiters = new Set<() => void>();
  let failure: (SmtpFailure & { left: number }) | null = opts.failFirst ? { ...opts.failFirst, left: opts.failFirst.times } : null;
  let failuresServed = 0;
  let rejectRecipients = opts.rejectRecipients ?? null;
  let authRequired = opts.authRequired;
  let port = 0;
  let server: SMTPServer | null = null;
  let hangAt: 'mail' | 'data' | null = null;
  const held: Array<() => void> = [];
  let onHeld: (() => void) | null = null;
  const hold = (stage: 'mail' | 'data', proceed: () => void): boolean => {
    if (hangAt !== stage) return false;
    held.push(proceed);
    onHeld?.();
    return true;
  };

  const failHere = (stage: 'mail' | 'rcpt' | 'data'): Error | null => {
    if (!failure || failure.left <= 0 || (failure.at ?? 'mail') !== stage) return null;
    failure.left -= 1;
    failuresServed += 1;
    return smtpError(failure.code, failure.message);
  };

  const options: SMTPServerOptions = {
    secure: opts.tls?.implicit ?? false,
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    disabledCommands: opts.tls ? [] : ['STARTTLS'],
    authOptional: !opts.authRequired && !opts.xoauth2,
    allowInsecureAuth: true,
    ...(opts.xoauth2 ? { authMethods: ['XOAUTH2'] } : {}),
    logger: false,
    closeTimeout: 100,
    onAuth(auth, _session, callback) {
      const oauth = opts.xoauth2;
      if (oauth) {
        const token = auth.accessToken ?? '';
        const ok = auth.method === 'XOAUTH2' && auth.username === oauth.user && oauth.accepts(token);
        logins.push({ method: auth.method, user: auth.username ?? '', token, ok });
        if (ok) callback(null, { user: auth.username ?? '' });
        else callback(null, { data: { status: '401', schemes: 'bearer', scope: 'https://outlook.office365.com/.default' } });
        return;
      }
      const expected = authRequired;
      if (expected && (auth.username !== expected.user || auth.password !== expected.pass)) {
        logins.push({ method: auth.method, user: auth.username ?? '', ok: false });
        callback(
          smtpError(
            535,
            opts.echoRejectedPassword ? `Authentication failed for ${auth.username ?? ''}:${auth.password ?? ''}` : 'Authentication failed',
          ),
        );
        return;
      }
      logins.push({ method: auth.method, user: auth.username ?? '', ok: true });
      callback(null, { user: auth.username ?? '' });
    },
    onMailFrom(_address, _session, callback) {
      if (hold('mail', () => callback(failHere('mail')))) return;
      callback(failHere('mail'));
    },
    onRcptTo(address, _session, callback) {
      if (rejectRecipients?.test(address.address)) {
        callback(smtpError(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`));
        return;
      }
      callback(failHere('rcpt'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (hold('data', () => callback(smtpError(451, '4.3.0 Try again later')))) return;
        const failed = failHere('data');
        if (failed) {
          callback(failed);
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then((parsed) => {
            messages.push({
              envelope: {
                mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
                rcptTo: session.envelope.rcptTo.map((r) => r.address),
              },
              parsed,
              raw,
              user: typeof session.user === 'string' ? session.user : undefined,
              secure: session.secure,
            });
            for (const wake of waiters) wake();
            callback(null, `2.0.0 Ok: queued as test-${messages.length}`);
          })
          .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
      });
    },
  };

  const listen = async (): Promise<void> => {
    const instance = new SMTPServer(options);
    instance.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const net = instance.listen(port, '127.0.0.1', () => resolve());
      net.once('error', reject);
    });
    const address = instance.server.address();
    if (address && typeof address === 'object') port = address.port;
    server = instance;
  };

  await listen();

  return {
    get port() {
      return port;
    },
    get url() {
      return `${opts.tls?.implicit ? 'smtps' : 'smtp'}://127.0.0.1:${port}`;
    },
    messages,
    logins,
    get failuresServed() {
      return failuresServed;
    },
    waitForMessages(n, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (messages.length < n) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(messages.slice());
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`expected ${n} message(s) within ${timeoutMs} ms, got ${messages.length}`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
    setFailure(next) {
      failure = next ? { ...next, left: next.times } : null;
    },
    setRejectRecipients(pattern) {
      rejectRecipients = pattern;
    },
    setAuthRequired(credentials) {
      authRequired = credentials;
    },
    setHang(stage) {
      hangAt = stage;
      if (stage === null) for (const proceed of held.splice(0)) proceed();
    },
    hanging() {
      return new Promise((resolve) => {
        if (held.length > 0) return resolve();
        onHeld = () => {
          onHeld = null;
          resolve();
        };
      });
    },
    async stop() {
      const current = server;
      server = null;
      if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
    },
    async restart() {
      if (server) return;
      await listen();
    },
  };
}
