// Plants every kind of secret, makes SuperOffice and the SMTP server echo them, drives every path, then searches every output for them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { privateKeyParts } from '../src/redact/config.ts';
import { MIN_SCRUBBED_LENGTH } from '../src/redact/secrets.ts';
import { freePort } from '../src/runtime/private-redis.ts';
import { startSimulator, type Simulator } from '../src/simulator/server.ts';
import { runCli, startCli, type CliProcess } from './helpers/cli.ts';
import { startTokenServer, type TokenServer } from './helpers/oauth2-server.ts';
import { onlineApp, simulatorSystemUser } from './helpers/online.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';
import { startSmtpServer, type ReceivedMessage, type TestSmtpServer } from './helpers/smtp.ts';
import { waitUntil } from './helpers/wait.ts';

/**
 * The planted secrets. Each has characters that change under URL encoding, JSON, HTML or base64, and is at
 * least MIN_SCRUBBED_LENGTH long (shorter values are masked where configured but not searched for in text).
 */
const app = onlineApp('planted');
const PLANTED = {
  soPassword: 'Pw&<Sekret>/+=%42 ü',
  soTicket: '7T:StaticTicket+/=0123456789',
  sitePassword: 'Site:Pw/+&Basic99',
  smtpPassword: 'Smtp&Pass/+=word%1',
  smtpWrongPassword: 'Wrong&Smtp/+=pw%77',
  oauthClientSecret: 'OAuth~Client.Secret/+=88',
  oauthRefreshToken: 'refresh/+=Token&X-1234',
  redisPassword: 'Redis&Pw/+=%secret9',
} as const;

/** Every form a leak could take: as is, URL-encoded, base64 (searched without regard to case, so lower-case copies count). */
function variants(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret, 'utf8').toString('base64')];
}

/**
 * The configurations the test runs. A process can only keep back the secrets it was given (SuperOffice's
 * tasks carry every planted secret, so a daemon logged in as the system user sees a password it never had).
 */
type Owner = 'online' | 'onsite' | 'ticket' | 'oauth' | 'refused' | 'bad';

/** Where each secret shows up in the outputs of the process that knew it, as "secret (form) in output"; none expected. */
function leaks(
  secretsOf: (owner: Owner) => Record<string, string>,
  outputs: readonly { name: string; owner: Owner; text: string }[],
): string[] {
  const found: string[] = [];
  for (const { name, owner, text } of outputs) {
    const lowered = text.toLowerCase();
    for (const [secretName, secret] of Object.entries(secretsOf(owner))) {
      if (secret.length < MIN_SCRUBBED_LENGTH) continue;
      for (const form of variants(secret)) {
        if (lowered.includes(form.toLowerCase())) {
          found.push(
            `${secretName} (${form === secret ? 'as is' : form === encodeURIComponent(secret) ? 'URL-encoded' : 'base64'}) in ${name}`,
          );
        }
      }
    }
  }
  return [...new Set(found)];
}

/** Every key matching `pattern` and its value, as text (SCAN, each key read by its type). */
async function dumpRedis(url: string, pattern: string): Promise<string> {
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    const parts: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        parts.push(key);
        const type = await redis.type(key);
        if (type === 'string') parts.push(String(await redis.get(key)));
        else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1', 'WITHSCORES')));
        else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
        else parts.push(`(${type})`);
      }
    } while (cursor !== '0');
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

/** A mail as every reader may see it: the raw message, and subject, headers, text and HTML decoded. */
function mailText(message: ReceivedMessage): string {
  const headers = [...message.parsed.headers.entries()].map(
    ([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`,
  );
  return [message.raw, message.parsed.subject ?? '', ...headers, message.parsed.text ?? '', String(message.parsed.html || '')].join('\n');
}

/** Text SuperOffice sends back with the caller's credentials in it (the simulator fills the placeholders per request). */
const ECHOED = [
  '{{ticket}}',
  '{{ticket:base64}}',
  '{{ticket:url}}',
  '{{ticket:lower}}',
  '{{applicationToken}}',
  '{{applicationToken:base64}}',
  '{{applicationToken:url}}',
  '{{applicationToken:lower}}',
].join(' ');

/** Every configured secret in every form, as a server that repeats what it knows might put into a task. */
function allForms(values: readonly string[]): string {
  return values
    .flatMap((value) => [value, encodeURIComponent(value), Buffer.from(value).toString('base64'), value.toLowerCase()])
    .join(' | ');
}

describe('planted secrets: no output of batchwatch ever shows one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-planted-'));
  let redis: PrivateRedis;
  let redisUrl: string;
  let sim: Simulator;
  let smtp: TestSmtpServer;
  let oauthSmtp: TestSmtpServer;
  let wrongSmtp: TestSmtpServer;
  let tokens: TokenServer;
  let daemon: CliProcess;
  let httpUrl: string;
  let online: string;
  /** What each output is, and which configuration produced it: its secrets are the ones that output must never show. */
  const outputs: { name: string; owner: Owner; text: string }[] = [];
  const output = (owner: Owner, name: string, text: string) => outputs.push({ owner, name, text });

  const env = (): NodeJS.ProcessEnv => ({
    SO_APPLICATION_TOKEN: app.clientSecret,
    SO_SYSTEM_USER_TOKEN: app.token,
    SO_PRIVATE_KEY: app.privateKeyPem,
    SO_PASSWORD: PLANTED.soPassword,
    SO_TICKET: PLANTED.soTicket,
    SITE_PASSWORD_URL: encodeURIComponent(PLANTED.sitePassword),
    SMTP_PASSWORD_URL: encodeURIComponent(PLANTED.smtpPassword),
    SMTP_WRONG_PASSWORD_URL: encodeURIComponent(PLANTED.smtpWrongPassword),
    OAUTH_CLIENT_SECRET: PLANTED.oauthClientSecret,
    OAUTH_REFRESH_TOKEN: PLANTED.oauthRefreshToken,
    REDIS_PASSWORD_URL: encodeURIComponent(PLANTED.redisPassword),
    BATCHWATCH_LOG_LEVEL: 'debug',
  });

  const writeConfig = (name: string, text: string): string => {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, text);
    return file;
  };
  const mailSection = (smtpUrl: string) =>
    `mail: { smtp: "${smtpUrl}", from: "batchwatch <bw@example.com>", to: [ops@example.com], retryDelay: 200ms, retryFor: 1m }`;
  const mailsOf = (server: TestSmtpServer, schedule: string) =>
    server.messages.filter((m) => m.parsed.headers.get('x-batchwatch-schedule') === schedule);
  const events = (message: ReceivedMessage) => String(message.parsed.headers.get('x-batchwatch-events'));
  const fetchText = async (path: string) => {
    const response = await fetch(`${httpUrl}${path}`);
    return { status: response.status, body: await response.text() };
  };

  before(async () => {
    redis = await startRedis();
    const admin = new Redis(redis.url);
    await admin.config('SET', 'requirepass', PLANTED.redisPassword);
    admin.disconnect();
    redisUrl = `redis://:${encodeURIComponent(PLANTED.redisPassword)}@127.0.0.1:${redis.port}`;
    [smtp, wrongSmtp, tokens] = await Promise.all([
      startSmtpServer({ authRequired: { user: 'mailer', pass: PLANTED.smtpPassword }, echoRejectedPassword: true }),
      startSmtpServer({ authRequired: { user: 'mailer', pass: 'not-the-configured-one' }, echoRejectedPassword: true }),
      startTokenServer({ clientId: 'bw-client', clientSecret: PLANTED.oauthClientSecret, refreshToken: PLANTED.oauthRefreshToken }),
    ]);
    oauthSmtp = await startSmtpServer({ xoauth2: { user: 'alerts@example.com', accepts: (token) => tokens.accepts(token) } });
    sim = await startSimulator({
      scenario: 'empty',
      systemUser: simulatorSystemUser(app),
      applicationToken: app.clientSecret,
      users: { planted: PLANTED.soPassword },
      staticTickets: [PLANTED.soTicket],
    });
    sim.echoCredentials(true);
    const configured = [
      PLANTED.soPassword,
      PLANTED.soTicket,
      app.clientSecret,
      app.token,
      PLANTED.smtpPassword,
      PLANTED.redisPassword,
      PLANTED.sitePassword,
    ];
    sim.upsertTask({
      id: 1,
      associateId: 101,
      name: `Import {{ticket}} ${PLANTED.soPassword}`,
      state: 'Failed',
      lastStarted: Date.now(),
      description: `${ECHOED} ${allForms(configured)}`,
      response: `failed for ticket {{ticket:url}}; app {{applicationToken:base64}}; key ${privateKeyParts(app.privateKeyPem)[2] ?? ''}`,
    });
    sim.upsertTask({
      id: 2,
      associateId: 101,
      name: `Export {{ticket:lower}} ${app.clientSecret}`,
      state: 'Started',
      progressPercent: 10,
      progressDescription: ECHOED,
    });
    sim.upsertTask({ id: 3, associateId: 101, name: 'Unreadable', state: 'Started' });
    sim.corruptField(3, 'LastStarted', `not a date {{ticket}} {{applicationToken:url}} ${PLANTED.soPassword}`);

    httpUrl = `http://127.0.0.1:${await freePort()}`;
    online = writeConfig(
      'online',
      `superoffice:
  url: "${sim.url}"
  applicationToken: \${SO_APPLICATION_TOKEN}
  systemUser: { token: "\${SO_SYSTEM_USER_TOKEN}", privateKey: "\${SO_PRIVATE_KEY}" }
  timeout: 3s
redis: { url: "redis://:\${REDIS_PASSWORD_URL}@127.0.0.1:${redis.port}", prefix: planted }
schedules: [{ name: online, associates: [101], every: 1s }]
rules: { unreachableAfter: 1, repeatInterval: 0s, stallAfter: 0s, queuedTimeout: 0s }
${mailSection(`smtp://mailer:\${SMTP_PASSWORD_URL}@127.0.0.1:${smtp.port}?allowPlaintextAuth=true`)}
http: { host: 127.0.0.1, port: ${new URL(httpUrl).port} }
`,
    );
    daemon = startCli(['run', '--config', online], env());
  });

  after(async () => {
    if (daemon && daemon.proc.exitCode === null) {
      daemon.proc.kill('SIGTERM');
      await daemon.exited();
    }
    await Promise.all([smtp?.stop(), oauthSmtp?.stop(), wrongSmtp?.stop(), tokens?.close(), sim?.close()]);
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('drives every path: polls, a failed task, an unreadable one, an outage, its resolution, a refused SMTP login, and the CLI', async () => {
    // The CLI on other credentials, while the daemon starts: username/password with a site password in the URL,
    // a static ticket, the system user, OAuth2 mail, a refused SMTP password, and a config error quoting a secret.
    const onsite = writeConfig(
      'onsite',
      `superoffice:
  url: "${sim.url.replace('://', '://site:${SITE_PASSWORD_URL}@')}"
  applicationToken: \${SO_APPLICATION_TOKEN}
  username: planted
  password: \${SO_PASSWORD}
redis: { url: "redis://:\${REDIS_PASSWORD_URL}@127.0.0.1:${redis.port}", prefix: onsite }
schedules: [{ name: onsite, associates: [101], every: 1m }]
${mailSection(`smtp://mailer:\${SMTP_PASSWORD_URL}@127.0.0.1:${smtp.port}?allowPlaintextAuth=true`)}
`,
    );
    const ticket = writeConfig(
      'ticket',
      `superoffice: { url: "${sim.url}", applicationToken: "\${SO_APPLICATION_TOKEN}", ticket: "\${SO_TICKET}" }
redis: { url: "${redisUrl}", prefix: ticket }
schedules: [{ name: ticket, associates: [101], every: 1m }]
mail: { enabled: false }
`,
    );
    const oauth = writeConfig(
      'oauth',
      `superoffice: { url: "${sim.url}", applicationToken: "\${SO_APPLICATION_TOKEN}", ticket: "\${SO_TICKET}" }
redis: { url: "${redisUrl}" }
schedules: [{ name: oauth, associates: [101], every: 1m }]
mail:
  smtp: "smtp://127.0.0.1:${oauthSmtp.port}?allowPlaintextAuth=true"
  from: bw@example.com
  to: [ops@example.com]
  oauth2: { user: alerts@example.com, tokenUrl: "${tokens.url}", clientId: bw-client, clientSecret: "\${OAUTH_CLIENT_SECRET}", refreshToken: "\${OAUTH_REFRESH_TOKEN}" }
`,
    );
    const refused = writeConfig(
      'refused',
      `superoffice: { url: "${sim.url}", applicationToken: "\${SO_APPLICATION_TOKEN}", ticket: "\${SO_TICKET}" }
redis: { url: "${redisUrl}" }
schedules: [{ name: refused, associates: [101], every: 1m }]
${mailSection(`smtp://mailer:\${SMTP_WRONG_PASSWORD_URL}@127.0.0.1:${wrongSmtp.port}?allowPlaintextAuth=true`)}
`,
    );
    const badConfig = writeConfig(
      'bad',
      `superoffice: { url: "${sim.url}", applicationToken: "\${SO_APPLICATION_TOKEN}", ticket: "\${SO_TICKET}", timeZone: "\${SO_PASSWORD}", timeout: "\${SO_TICKET}" }
redis: { url: "${redisUrl}" }
schedules: [{ name: bad, associates: [101], every: "\${SO_APPLICATION_TOKEN}" }]
mail: { enabled: false }
`,
    );
    const runs: [Owner, string, string[]][] = [
      ['onsite', 'check (username/password)', ['check', '--config', onsite]],
      ['onsite', 'poll-once --json (username/password)', ['poll-once', '--config', onsite, '--json']],
      ['ticket', 'poll-once (static ticket)', ['poll-once', '--config', ticket]],
      ['online', 'check (system user)', ['check', '--config', online]],
      ['oauth', 'send-test-email (OAuth2)', ['send-test-email', '--config', oauth]],
      ['refused', 'send-test-email (refused SMTP password)', ['send-test-email', '--config', refused]],
      ['bad', 'check (config error quoting secrets)', ['check', '--config', badConfig]],
      ['bad', 'run (config error quoting secrets)', ['run', '--config', badConfig]],
    ];
    const running = Promise.all(runs.map(([, , args]) => runCli(args, env())));

    // Successful polls: the failed task is mailed (its text echoes every secret) and the running task is a metric.
    await waitUntil(() => mailsOf(smtp, 'online').some((m) => /failed=1/.test(events(m))), 60_000, 'the failed-task mail');
    const metricsWhilePolling = (await fetchText('/metrics')).body;
    output('online', '/metrics while polling', metricsWhilePolling);
    assert.match(metricsWhilePolling, /superoffice_batch_task_state\{[^}]*task_id="2"/);
    output('online', '/readyz while polling', (await fetchText('/readyz')).body);

    const results = await running;
    runs.forEach(([owner, name], index) => {
      output(owner, `${name}: stdout`, results[index]!.stdout);
      output(owner, `${name}: stderr`, results[index]!.stderr);
    });
    const [checkOnsite, pollJson, pollTicket, checkOnline, testMail, refusedMail, badCheck, badRun] = results;
    assert.equal(checkOnsite!.code, 0, checkOnsite!.stdout + checkOnsite!.stderr);
    assert.equal(pollJson!.code, 0, pollJson!.stderr);
    assert.equal(pollTicket!.code, 0, pollTicket!.stderr);
    assert.equal(checkOnline!.code, 0, checkOnline!.stdout + checkOnline!.stderr);
    assert.equal(testMail!.code, 0, testMail!.stdout + testMail!.stderr);
    assert.equal(refusedMail!.code, 1);
    assert.match(refusedMail!.stdout, /Authentication failed for mailer:/, 'the server echoed the password it got');
    assert.equal(badCheck!.code, 2);
    assert.equal(badRun!.code, 2);
    assert.ok(tokens.issued.length > 0, 'an OAuth2 access token was issued');
    assert.ok(oauthSmtp.messages.length > 0, 'the OAuth2 test mail arrived');

    // Failed polls: SuperOffice answers with an exception that quotes the ticket; superoffice-down is mailed, then resolved.
    sim.injectFault({ type: 'in-band', times: 2, message: `Session ${ECHOED} is not valid` });
    await waitUntil(
      () => mailsOf(smtp, 'online').some((m) => /superoffice-down=online/.test(events(m))),
      60_000,
      'the superoffice-down mail',
    );
    await waitUntil(() => mailsOf(smtp, 'online').some((m) => /resolved=online/.test(events(m))), 60_000, 'its resolution');

    // The SMTP server refuses the login from now on and quotes the password it got: mail pauses, /readyz says why.
    smtp.setAuthRequired({ user: 'mailer', pass: 'rotated-elsewhere' });
    await smtp.stop();
    await smtp.restart();
    sim.upsertTask({ id: 4, associateId: 101, name: `Another {{ticket}}`, state: 'Failed', lastStarted: Date.now(), description: ECHOED });
    await waitUntil(async () => (await fetchText('/readyz')).status === 503, 60_000, '/readyz 503 once the SMTP login is refused');
    const readyz = await fetchText('/readyz');
    output('online', '/readyz with mail refused', readyz.body);
    assert.match(readyz.body, /mail: .*(authentication|login|535)/i);
    output('online', '/metrics at the end', (await fetchText('/metrics')).body);

    daemon.proc.kill('SIGTERM');
    const exit = await daemon.exited();
    assert.equal(exit.code, 0, daemon.stderr());
    output('online', 'daemon stdout (logs)', daemon.stdout());
    output('online', 'daemon stderr', daemon.stderr());

    const owners: Record<string, Owner> = { online: 'online', onsite: 'onsite' };
    smtp.messages.forEach((message, index) => {
      const schedule = String(message.parsed.headers.get('x-batchwatch-schedule'));
      output(owners[schedule] ?? 'onsite', `mail ${index + 1} (${schedule}, ${events(message)})`, mailText(message));
    });
    for (const [index, message] of oauthSmtp.messages.entries()) output('oauth', `OAuth2 test mail ${index + 1}`, mailText(message));
    for (const [owner, prefix] of [
      ['online', 'planted'],
      ['onsite', 'onsite'],
      ['ticket', 'ticket'],
      ['oauth', 'batchwatch'],
    ] as const) {
      output(owner, `Redis keys ${prefix}:* and their values`, await dumpRedis(redisUrl, `${prefix}:*`));
    }
    assert.match(outputs.find((it) => it.name.startsWith('Redis keys planted'))?.text ?? '', /planted:.*online/);
    const keys = new Redis(redisUrl);
    const stray = (await keys.keys('*')).filter((key) => !/^(planted|onsite|ticket|batchwatch):/.test(key));
    keys.disconnect();
    assert.deepEqual(stray, [], 'every key is under one of the prefixes searched');
  });

  it('finds no secret, in any form, in the outputs of the process that had it', () => {
    assert.ok(outputs.length >= 25, `outputs collected: ${outputs.map((it) => it.name).join(', ')}`);
    const numbered = (label: string, values: readonly string[]) =>
      Object.fromEntries(values.map((value, index) => [`${label} ${index + 1}`, value]));
    const systemUserSecrets = new Set(sim.stats.systemUserSecrets);
    const passwordTickets = sim.stats.issuedTickets.filter((ticket) => !systemUserSecrets.has(ticket));
    assert.ok(systemUserSecrets.size > 0 && passwordTickets.length > 0, 'tickets were issued by both kinds of login');
    const everyone = { redisPassword: PLANTED.redisPassword, applicationToken: app.clientSecret };
    const secretsOf = (owner: Owner): Record<string, string> => {
      switch (owner) {
        case 'online':
          return {
            ...everyone,
            smtpPassword: PLANTED.smtpPassword,
            systemUserToken: app.token,
            ...numbered('private key part', privateKeyParts(app.privateKeyPem)),
            ...numbered('system user login secret (signed token, JWT, ticket)', sim.stats.systemUserSecrets),
          };
        case 'onsite':
          return {
            ...everyone,
            soPassword: PLANTED.soPassword,
            sitePassword: PLANTED.sitePassword,
            smtpPassword: PLANTED.smtpPassword,
            ...numbered('ticket of a password login', passwordTickets),
          };
        case 'ticket':
          return { ...everyone, soTicket: PLANTED.soTicket };
        case 'oauth':
          return {
            ...everyone,
            soTicket: PLANTED.soTicket,
            oauthClientSecret: PLANTED.oauthClientSecret,
            oauthRefreshToken: PLANTED.oauthRefreshToken,
            ...numbered('OAuth2 access token', tokens.issued),
          };
        case 'refused':
          return { ...everyone, soTicket: PLANTED.soTicket, smtpWrongPassword: PLANTED.smtpWrongPassword };
        case 'bad':
          return { ...everyone, soTicket: PLANTED.soTicket, soPassword: PLANTED.soPassword };
      }
    };
    assert.deepEqual(leaks(secretsOf, outputs), []);
  });

  it('shows where they were masked: URLs with ***, echoed text with ***, values from the environment by name', () => {
    const text = (name: string) => outputs.find((it) => it.name === name)?.text ?? '';
    assert.match(text('check (username/password): stdout'), /superoffice auth\s+http:\/\/site:\*\*\*@127\.0\.0\.1/);
    assert.match(text('check (username/password): stdout'), /redis\s+redis:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.match(text('poll-once --json (username/password): stdout'), /"name": "Import \*\*\* \*\*\*"/);
    assert.match(text('poll-once (static ticket): stdout'), /Import \*\*\*/);
    assert.match(text('send-test-email (refused SMTP password): stdout'), /Authentication failed for mailer:\*\*\*/);
    assert.match(
      text('check (config error quoting secrets): stdout'),
      /superoffice\.timeZone: \(value from \$\{SO_PASSWORD\}\) is not an IANA time zone/,
    );
    assert.match(text('daemon stdout (logs)'), /\*\*\*/);
    assert.match(outputs.find((it) => /failed=1/.test(it.text) && it.name.startsWith('mail'))?.text ?? '', /Import \*\*\*/);
  });
});
