import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MAIL_CATCHER_PORT } from '../src/demo/mail-catcher.ts';
import { freePort } from '../src/runtime/private-redis.ts';
import { DEFAULT_SIMULATOR_PORT } from '../src/simulator/command.ts';
import { runCli, startCli } from './helpers/cli.ts';
import { startRedis, type PrivateRedis } from './helpers/redis.ts';

describe('the shipped config works against `batchwatch simulator` (simulator + mail catcher)', () => {
  let redis: PrivateRedis;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'bw-shipped-'));
  });
  after(async () => {
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('config/batchwatch.yaml points at the simulator defaults; check and send-test-email pass against a running simulator', async () => {
    const shipped = readFileSync(resolve('config/batchwatch.yaml'), 'utf8');
    assert.match(shipped, new RegExp(`url: http://127\\.0\\.0\\.1:${DEFAULT_SIMULATOR_PORT}/Cust1\\n`));
    assert.match(shipped, new RegExp(`smtp: smtp://127\\.0\\.0\\.1:${DEFAULT_MAIL_CATCHER_PORT}\\s`));

    // The fixed default ports may be taken on a shared machine: run on free ones, and change only the ports in the copy.
    const [port, smtpPort] = [await freePort(), await freePort()];
    const simulator = startCli(['simulator', '--port', String(port), '--smtp-port', String(smtpPort)]);
    try {
      await simulator.waitForOutput(new RegExp(`Mail catcher \\(SMTP\\) listening at smtp://127\\.0\\.0\\.1:${smtpPort}`), 20_000);
      const config = join(dir, 'batchwatch.yaml');
      const copy = shipped
        .replace(`url: http://127.0.0.1:${DEFAULT_SIMULATOR_PORT}/`, `url: http://127.0.0.1:${port}/`)
        .replace(`smtp: smtp://127.0.0.1:${DEFAULT_MAIL_CATCHER_PORT}`, `smtp: smtp://127.0.0.1:${smtpPort}`);
      assert.equal(copy.split('\n').filter((line, i) => line !== shipped.split('\n')[i]).length, 2, 'only the two ports differ');
      writeFileSync(config, copy);
      const env = { REDIS_URL: redis.url, SO_PASSWORD: '', SMTP_USERNAME: '', SMTP_PASSWORD: '' };

      const check = await runCli(['check', '--config', config], env);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assert.deepEqual(
        check.stdout
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
        ['ok config', 'ok redis', 'ok superoffice', 'ok schedule', 'ok smtp'],
      );

      const sent = await runCli(['send-test-email', '--config', config], env);
      assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      assert.match(sent.stdout, new RegExp(`^sent to ops@localhost via smtp://127\\.0\\.0\\.1:${smtpPort}: 250 `));
      await simulator.waitForOutput(/mail received: \[batchwatch\] test message from .* → ops@localhost \(saved as .*\.eml\)/, 10_000);
    } finally {
      simulator.proc.kill('SIGINT');
      const { code } = await simulator.exited();
      assert.equal(code, 0, simulator.stderr());
    }
  });

  it('a busy port is named with the flag that changes it', async () => {
    const busy: Server = createServer();
    await new Promise<void>((ok) => busy.listen(0, '127.0.0.1', ok));
    const taken = (busy.address() as { port: number }).port;
    try {
      const [smtpBusy, simulatorBusy] = await Promise.all([
        runCli(['simulator', '--port', String(await freePort()), '--smtp-port', String(taken)]),
        runCli(['simulator', '--port', String(taken), '--smtp-port', '0']),
      ]);
      assert.equal(smtpBusy.code, 1);
      assert.match(
        smtpBusy.stderr,
        new RegExp(`cannot start the mail catcher \\(SMTP\\): port ${taken} is in use \\(pass --smtp-port N for another port`),
      );
      assert.equal(simulatorBusy.code, 1);
      assert.match(simulatorBusy.stderr, new RegExp(`cannot start the simulator: port ${taken} is in use \\(pass --port N`));
    } finally {
      busy.close();
    }
  });
});
