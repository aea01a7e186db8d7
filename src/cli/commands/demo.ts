/** `batchwatch demo`: the whole system on this machine (simulator, private Redis, mail catcher), no set-up. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { parseConfig } from '../../config/load.ts';
import { startDaemon } from '../../daemon/daemon.ts';
import { demoConfigYaml } from '../../demo/demo-config.ts';
import { startMailCatcher, type CaughtMail } from '../../demo/mail-catcher.ts';
import { createLogger } from '../../log.ts';
import { findRedisServer, freePort, REDIS_MISSING_HINT, startPrivateRedis, type PrivateRedis } from '../../runtime/private-redis.ts';
import { startSimulator } from '../../simulator/server.ts';
import { parseCommandArgs, parsePort } from '../args.ts';
import { redactUrl, registerConfigSecrets } from '../../redact/config.ts';
import { untilSignal } from '../../runtime/signals.ts';

const say = (line: string) => process.stdout.write(`${line}\n`);

function showMail({ file, parsed }: CaughtMail): void {
  const events = parsed.headers.get('x-batchwatch-events');
  say('');
  say(`── mail ${'─'.repeat(60)}`);
  say(`Subject: ${parsed.subject ?? ''}`);
  say(`X-Batchwatch-Events: ${typeof events === 'string' ? events : ''}`);
  say((parsed.text ?? '').trim());
  say(`(saved as ${file})`);
  say('─'.repeat(67));
}

async function deletePrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function demoCommand(argv: string[]): Promise<number> {
  const values = parseCommandArgs(argv, { port: { type: 'string' } });
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
  };
  try {
    let redisUrl = process.env.REDIS_URL;
    let privateRedis: PrivateRedis | null = null;
    if (!redisUrl) {
      if (!findRedisServer()) {
        process.stderr.write(`${REDIS_MISSING_HINT}\n`);
        return 1;
      }
      privateRedis = await startPrivateRedis();
      cleanups.push(() => privateRedis!.close());
      redisUrl = privateRedis.url;
    }
    // A private key prefix per run: a shared REDIS_URL never sees stale demo state, and we clean up after.
    const prefix = `batchwatch-demo-${process.pid}`;
    if (!privateRedis) cleanups.push(() => deletePrefix(redisUrl!, prefix));

    const simulator = await startSimulator({ scenario: 'story', host: '127.0.0.1', port: 0 });
    cleanups.push(() => simulator.close());
    const mailDir = mkdtempSync(join(tmpdir(), 'batchwatch-demo-mail-'));
    const catcher = await startMailCatcher(mailDir, showMail);
    cleanups.push(() => catcher.close());
    const httpPort = parsePort(values.port, '--port') ?? (await freePortPreferring(9464));

    const config = parseConfig(
      demoConfigYaml({ simulatorUrl: simulator.url, redisUrl, prefix, smtpPort: catcher.port, httpPort }),
      process.env,
      'demo config',
    );
    // REDIS_URL may carry a password: scrubbed from every output like a loaded config's secrets.
    registerConfigSecrets(config);
    const log = createLogger(config.log.level);
    const daemon = await startDaemon(config, log);
    cleanups.push(() => daemon.close());

    say('batchwatch demo is running.');
    say(`  status page            ${daemon.httpUrl}/   (open it in a browser; the same as JSON: /api/v1/status)`);
    say(`  SuperOffice simulator  ${simulator.url}/Remote/Services85/Batch.svc  (scenario "story")`);
    say(
      `  Redis                  ${privateRedis ? `${redisUrl} (private, stopped on exit)` : `${redactUrl(redisUrl)} (REDIS_URL, keys under ${prefix}:)`}`,
    );
    say(`  metrics                ${daemon.httpUrl}/metrics   (health: /healthz, /readyz)`);
    say(`  mail (SMTP)            smtp://127.0.0.1:${catcher.port}  (local catcher: shown below and saved as .eml files in ${mailDir})`);
    say('The story: a task that succeeds, one that fails (~15 s), one that stalls (~30 s), one stuck in New (~35 s).');
    say(`Try:  curl -s ${daemon.httpUrl}/metrics | grep superoffice_batch_task_state`);
    // Listening for Ctrl-C before saying it stops us: a Ctrl-C right after the banner must not skip the clean-up.
    const stopped = untilSignal();
    say('Press Ctrl-C to stop everything the demo started.');
    await stopped;
    say('\nstopping the demo…');
    await cleanup();
    return 0;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function freePortPreferring(port: number): Promise<number> {
  const { createServer } = await import('node:net');
  const free = await new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? port : freePort();
}
