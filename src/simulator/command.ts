import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS, scenarioNames } from './scenarios.ts';
import { untilSignal } from '../runtime/signals.ts';
import { STATE_CONTROL_PATH } from './online.ts';
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

/**
 * `batchwatch simulator [--port N] [--scenario NAME]`: runs the simulator until SIGINT/SIGTERM.
 * Resolves 0 after a clean stop, 2 for an unknown scenario, 1 when it cannot start.
 */
export async function runSimulatorCommand(args: { port?: number; scenario?: string; host?: string }): Promise<number> {
  const scenario = args.scenario ?? 'story';
  if (!SCENARIOS[scenario]) {
    process.stderr.write(`batchwatch simulator: unknown scenario "${scenario}" (known: ${scenarioNames().join(', ')})\n`);
    return 2;
  }
  let simulator: Simulator;
  const kit = makeOnlineKit();
  const removeKit = () => rmSync(kit.dir, { recursive: true, force: true });
  try {
    simulator = await startSimulator({
      port: args.port ?? DEFAULT_SIMULATOR_PORT,
      host: args.host ?? '127.0.0.1',
      scenario,
      systemUser: { token: kit.token, appPublicKey: kit.appPublicKey, applicationToken: kit.clientSecret },
    });
    writeFileSync(kit.certificateFile, simulator.jwtCertificate ?? '');
  } catch (err) {
    removeKit();
    process.stderr.write(`batchwatch simulator: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const described = SCENARIOS[scenario];
  process.stdout.write(
    [
      `SuperOffice simulator listening at ${simulator.url}`,
      `  scenario ${scenario}: ${described?.description ?? ''}`,
      `  services ${simulator.url}/Remote/Services85/Batch.svc and .../SoPrincipal.svc (user demo, password demo)`,
      '',
      'Use it from batchwatch (export SO_PASSWORD=demo):',
      '',
      'superoffice:',
      `  url: ${simulator.url}`,
      '  username: demo',
      '  password: ${SO_PASSWORD}',
      'schedules:',
      '  - name: demo',
      `    associates: [${(described?.associates ?? []).join(', ')}]`,
      '    every: 5s',
      '',
      ...onlineInstructions(simulator, kit),
      `Ctrl-C stops it (and removes ${kit.dir}).`,
      '',
    ].join('\n'),
  );
  const signal = await untilSignal();
  process.stdout.write(`${signal}: stopping the simulator\n`);
  await simulator.close();
  removeKit();
  return 0;
}
