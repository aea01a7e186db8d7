import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { SuperOfficeConfig, SystemUserConfig } from '../../src/config/types.ts';
import { privateKeyParts } from '../../src/redact/config.ts';
import type { Simulator, SimulatorOptions } from '../../src/simulator/server.ts';

/** A SuperOffice Online app for tests: an RSA key pair made here with node:crypto, a system user token and a client secret. */
export interface OnlineApp {
  token: string;
  clientSecret: string;
  privateKeyPem: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

export function onlineApp(tag = 'test'): OnlineApp {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    token: `SYSTEM-USER-${tag}-7f3a91c2d4`,
    clientSecret: `CLIENT-SECRET-${tag}-5b8e22aa`,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim(),
    publicKey,
    privateKey,
  };
}

/** The simulator options that register `app` for the tenant. */
export function simulatorSystemUser(app: OnlineApp): NonNullable<SimulatorOptions['systemUser']> {
  return { token: app.token, appPublicKey: app.publicKey, applicationToken: app.clientSecret };
}

/** Client config that logs in as the system user of the simulator's tenant; `verify` adds the simulator's JWT certificate. */
export function onlineConfig(
  sim: Simulator,
  app: OnlineApp,
  options: { verify?: boolean; systemUser?: Partial<SystemUserConfig> } & Partial<Omit<SuperOfficeConfig, 'systemUser'>> = {},
): SuperOfficeConfig {
  const { verify = true, systemUser = {}, ...overrides } = options;
  return {
    url: sim.url,
    applicationToken: app.clientSecret,
    systemUser: {
      token: app.token,
      privateKey: app.privateKeyPem,
      loginUrl: `${new URL(sim.url).origin}/login`,
      ...(verify && sim.jwtCertificate ? { jwtCertificate: { file: 'simulator-jwt.pem', pem: sim.jwtCertificate } } : {}),
      ...systemUser,
    },
    timeout: 3000,
    associatesPerRequest: 100,
    maxConcurrentRequests: 2,
    timeZone: 'UTC',
    ...overrides,
  };
}

/** Every secret of the Online flow that must never show: the app's key (whole and by line), token, client secret, and what the simulator issued. */
export function onlineSecrets(app: OnlineApp, sim: Simulator): string[] {
  return [...privateKeyParts(app.privateKeyPem), app.token, app.clientSecret, ...sim.stats.systemUserSecrets];
}

/** The secrets that occur in `text` (none, hopefully), shortened for the failure message. */
export function leaked(text: string, secrets: readonly string[]): string[] {
  return secrets.filter((s) => s.length >= 8 && text.includes(s)).map((s) => `${s.slice(0, 12)}…`);
}

/** The key as .NET's RSAKeyValue XML, the form SuperOffice's developer portal hands out. */
export function rsaKeyValueXml(privateKey: KeyObject): string {
  const jwk = privateKey.export({ format: 'jwk' });
  const b64 = (value: string | undefined) => Buffer.from(value ?? '', 'base64url').toString('base64');
  const fields: [string, string | undefined][] = [
    ['Modulus', jwk.n],
    ['Exponent', jwk.e],
    ['P', jwk.p],
    ['Q', jwk.q],
    ['DP', jwk.dp],
    ['DQ', jwk.dq],
    ['InverseQ', jwk.qi],
    ['D', jwk.d],
  ];
  return `<RSAKeyValue>${fields.map(([name, value]) => `<${name}>${b64(value)}</${name}>`).join('')}</RSAKeyValue>`;
}
