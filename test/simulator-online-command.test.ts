import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfig } from '../src/config/load.ts';
import { createSuperOfficeClient } from '../src/superoffice/client.ts';
import { tenantStatusFor } from '../src/superoffice/tenant-status.ts';
import { startCli } from './helpers/cli.ts';

/** `batchwatch simulator` prints everything needed to try the system user login, and what it prints works. */

describe('batchwatch simulator: the Online kit', () => {
  it('prints a token, a client secret, a private key file, a certificate and a config snippet that logs in', async () => {
    const cli = startCli(['simulator', '--port', '0', '--smtp-port', '0', '--scenario', 'quiet']);
    try {
      await cli.waitForOutput(/Ctrl-C stops it/, 20_000);
      const out = cli.stdout();
      const field = (label: string) => {
        const value = new RegExp(`^ {2}${label} +(\\S+)`, 'm').exec(out)?.[1];
        assert.ok(value, `${label} in:\n${out}`);
        return value;
      };
      const token = field('system user token');
      const clientSecret = field('client secret');
      const keyFile = field('private key file');
      const certificateFile = field('JWT certificate');
      assert.ok(existsSync(keyFile) && existsSync(certificateFile));
      const snippet = /^(superoffice:\n {2}url: .*\n {2}applicationToken:[\s\S]*?tenantStatusUrl: .*)$/m.exec(out)?.[1];
      assert.ok(snippet, out);
      assert.ok(snippet.includes(`privateKeyFile: ${keyFile}`) && snippet.includes(`jwtCertificate: ${certificateFile}`));

      const config = parseConfig(`${snippet}\nschedules: [{ name: demo, associates: [101, 102], every: 5s }]\nmail: { enabled: false }\n`, {
        SO_CLIENT_SECRET: clientSecret,
        SO_SYSTEM_USER_TOKEN: token,
      });
      const client = createSuperOfficeClient(config.superoffice);
      const info = await client.authenticate();
      assert.equal(info.systemUser?.verified, true, 'the printed certificate verifies the JWT');
      assert.deepEqual(
        (await client.getBatchTaskInfosByAssociates([101, 102])).map((t) => t.id),
        [2001, 2002],
      );
      const status = tenantStatusFor(config.superoffice);
      assert.equal((await status!.current()).state, 'Running');

      const control = /curl -X PUT --data OfflineMaintenance (\S+)/.exec(out)?.[1];
      assert.ok(control, out);
      await fetch(control, { method: 'PUT', body: 'OfflineMaintenance' });
      assert.equal((await tenantStatusFor(config.superoffice)!.current()).state, 'OfflineMaintenance');

      cli.proc.kill('SIGINT');
      assert.equal((await cli.exited()).code, 0);
      assert.ok(!existsSync(keyFile), 'the generated key is removed on exit');
    } finally {
      if (cli.proc.exitCode === null) cli.proc.kill('SIGKILL');
    }
  });
});
