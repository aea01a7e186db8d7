import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startCli } from './helpers/cli.ts';
import { portOpen } from './helpers/wait.ts';

describe('batchwatch demo', () => {
  it('shows a failed task in its metrics within 90 s and exits 0 on SIGINT', async () => {
    // Without REDIS_URL the demo starts (and must stop) its own redis-server.
    const demo = startCli(['demo'], { REDIS_URL: '' });
    let redisPort = 0;
    try {
      const [, statusUrl] = await demo.waitForOutput(/batchwatch demo is running\.\n\s+status page\s+(http:\/\/\S+\/)\s/, 30_000);
      const [, metricsUrl] = await demo.waitForOutput(/metrics\s+(http:\/\/\S+\/metrics)/, 1000);
      redisPort = Number((await demo.waitForOutput(/Redis\s+redis:\/\/127\.0\.0\.1:(\d+) \(private/, 1000))[1]);
      await demo.waitForOutput(/mail \(SMTP\)\s+smtp:\/\/127\.0\.0\.1:\d+ /, 1000);
      const deadline = Date.now() + 90_000;
      let body = '';
      while (Date.now() < deadline) {
        body = await fetch(metricsUrl!).then(
          (r) => r.text(),
          () => '',
        );
        if (/superoffice_batch_task_state\{[^}]*state="Failed"[^}]*\} 1/.test(body)) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      assert.match(body, /superoffice_batch_task_state\{[^}]*state="Failed"[^}]*\} 1/);
      await demo.waitForOutput(/Subject: \[FIRING:\d+\]/, 30_000);
      // The status page (first line of the demo's output) shows the failure too.
      const page = await fetch(statusUrl!).then((r) => r.text());
      assert.match(page, /<span class="badge bad">failed<\/span>/);
    } finally {
      demo.proc.kill('SIGINT');
      const { code } = await demo.exited();
      assert.equal(code, 0, demo.stderr());
    }
    assert.ok(redisPort > 0);
    assert.equal(await portOpen(redisPort), false, 'the private redis-server was stopped');
  });
});
