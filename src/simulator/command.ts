/** `batchwatch simulator`: the SuperOffice simulator (with its Online login kit) and a local mail catcher, as config/batchwatch.yaml expects them, until SIGINT/SIGTERM. */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAIL_CATCHER_PORT, startMailCatcher, type CaughtMail, type MailCatcher } from '../demo/mail-catcher.ts';
import { untilSignal } from '../runtime/signals.ts';
import { STATE_CONTROL_PATH } from './online.ts';
import { SCENARIOS, scenarioNames } from './scenarios.ts';
import { startSimulator, type Simulator } from './server.ts';

/** What an operator needs to try the system user login: made fresh for every run, written to a private temp dir. */
interface OnlineKit {
  dir: string;
  token: string;
  clientSecret: string;
  privateKeyFile: string;
  certificateFile: string;
  appPublicKey: string;
}

function makeOnlineKit(): OnlineKit {
  const dir = mkdtempSync(join(tmpdir(), 'batchwatch-simulator-'));
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyFile = join(dir, 'app-private-key.pem');
  writeFileSync(privateKeyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return {
    dir,
    token: `SIM-SYSTEM-USER-${randomBytes(12).toString('hex')}`,
    clientSecret: randomBytes(16).toString('hex'),
    privateKeyFile,
    certificateFile: join(dir, 'superoffice-jwt-certificate.pem'),
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function onlineInstructions(simulator: Simulator, kit: OnlineKit): string[] {
  const origin = new URL(simulator.url).origin;
  return [
    `SuperOffice Online system user login (tenant ${simulator.contextIdentifier}), made for this run in ${kit.dir}:`,
    `  system user token  ${kit.token}`,
    `  client secret      ${kit.clientSecret}   (the applicationToken)`,
    `  private key file   ${kit.privateKeyFile}`,
    `  JWT certificate    ${kit.certificateFile}`,
    `  login              ${origin}/login/api/PartnerSystemUser/Authenticate`,
    `  tenant status      ${origin}/api/state/${simulator.contextIdentifier}`,
    `  maintenance        curl -X PUT --data OfflineMaintenance ${origin}${STATE_CONTROL_PATH}   (back: --data Running; follow the scenario: -X DELETE)`,
    '',
    `Or log in as on SuperOffice Online (same schedules as above; export SO_CLIENT_SECRET=${kit.clientSecret} SO_SYSTEM_USER_TOKEN=${kit.token}):`,
    '',
    'superoffice:',
    `  url: ${simulator.url}`,
    '  applicationToken: ${SO_CLIENT_SECRET}',
    '  systemUser:',
    '    token: ${SO_SYSTEM_USER_TOKEN}',
    `    privateKeyFile: ${kit.privateKeyFile}`,
    `    jwtCertificate: ${kit.certificateFile}`,
    `  tenantStatusUrl: ${origin}/api/state`,
    '',
  ];
}

export const DEFAULT_SIMULATOR_PORT = 8085;

export interface SimulatorCommandArgs {
  port?: number;
  scenario?: string;
  host?: string;
  /** The mail catcher's port (default 2525; 0 = any free port). */
  smtpPort?: number;
}

function listenFailure(what: string, port: number, flag: string, error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  if (code === 'EADDRINUSE')
    return `cannot start the ${what}: port ${port} is in use (pass ${flag} N for another port, or ${flag} 0 for any free one)`;
  return `cannot start the ${what} on port ${port}: ${error instanceof Error ? error.message : String(error)}`;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

function showMail({ file, parsed }: CaughtMail): void {
  const to = parsed.to ? (Array.isArray(parsed.to) ? parsed.to : [parsed.to]).map((a) => a.text).join(', ') : '';
  say(`mail received: ${parsed.subject ?? '(no subject)'} → ${to} (saved as ${file})`);
}

/** Resolves 0 after a clean stop, 2 for an unknown scenario, 1 when a port cannot be used. */
export async function runSimulatorCommand(args: SimulatorCommandArgs): Promise<number> {
  const scenario = args.scenario ?? 'story';
  if (!SCENARIOS[scenario]) {
    process.stderr.write(`batchwatch simulator: unknown scenario "${scenario}" (known: ${scenarioNames().join(', ')})\n`);
    return 2;
  }
  const host = args.host ?? '127.0.0.1';
  const port = args.port ?? DEFAULT_SIMULATOR_PORT;
  const smtpPort = args.smtpPort ?? DEFAULT_MAIL_CATCHER_PORT;
  let simulator: Simulator;
  const kit = makeOnlineKit();
  const removeKit = () => rmSync(kit.dir, { recursive: true, force: true });
  try {
    simulator = await startSimulator({
      port,
      host,
      scenario,
      systemUser: { token: kit.token, appPublicKey: kit.appPublicKey, applicationToken: kit.clientSecret },
    });
    writeFileSync(kit.certificateFile, simulator.jwtCertificate ?? '');
  } catch (error) {
    removeKit();
    process.stderr.write(`batchwatch simulator: ${listenFailure('simulator', port, '--port', error)}\n`);
    return 1;
  }
  const mailDir = mkdtempSync(join(tmpdir(), 'batchwatch-simulator-mail-'));
  let catcher: MailCatcher;
  try {
    catcher = await startMailCatcher(mailDir, showMail, { port: smtpPort, host });
  } catch (error) {
    await simulator.close();
    removeKit();
    process.stderr.write(`batchwatch simulator: ${listenFailure('mail catcher (SMTP)', smtpPort, '--smtp-port', error)}\n`);
    return 1;
  }
  const described = SCENARIOS[scenario];
  const smtpUrl = `smtp://${host.includes(':') ? `[${host}]` : host}:${catcher.port}`;
  // Listening for Ctrl-C before saying it stops us: a Ctrl-C right after the banner must not kill us half-way.
  const stopped = untilSignal();
  say(
    [
      `SuperOffice simulator listening at ${simulator.url}`,
      `  scenario ${scenario}: ${described?.description ?? ''}`,
      `  services ${simulator.url}/Remote/Services85/Batch.svc and .../SoPrincipal.svc (user demo, password demo)`,
      `Mail catcher (SMTP) listening at ${smtpUrl}: messages are shown here and saved as .eml files in ${mailDir}`,
      '',
      port === DEFAULT_SIMULATOR_PORT && catcher.port === DEFAULT_MAIL_CATCHER_PORT
        ? 'config/batchwatch.yaml points here: try `npx batchwatch check` and `npx batchwatch send-test-email` (with Redis on 6379 or REDIS_URL).'
        : 'Use it from batchwatch (export SO_PASSWORD=demo):',
      '',
      'superoffice:',
      `  url: ${simulator.url}`,
      '  username: demo',
      '  password: ${SO_PASSWORD}',
      'schedules:',
      '  - name: demo',
      `    associates: [${(described?.associates ?? []).join(', ')}]`,
      '    every: 5s',
      '  # Every other task, whoever it belongs to (at most one schedule says all; it skips the associates listed above):',
      '  - name: everything',
      '    associates: all',
      '    includeSystemTasks: true     # also the system tasks (associate 0)',
      '    every: 5s',
      'mail:',
      `  smtp: ${smtpUrl}`,
      '  from: "batchwatch <batchwatch@localhost>"',
      '  to: [ops@localhost]',
      '',
      ...onlineInstructions(simulator, kit),
      `Ctrl-C stops it (and removes ${kit.dir}).`,
      '',
    ].join('\n'),
  );
  const signal = await stopped;
  say(`${signal}: stopping the simulator`);
  await catcher.close();
  await simulator.close();
  removeKit();
  return 0;
}
