/** superoffice.systemUser at load: reads and checks the private key and the JWT certificate, never echoing key material. */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { PemFileError, readPemText } from './pem-file.ts';

/** What the YAML mapping holds once blank values are dropped. */
export interface SystemUserInput {
  token: string;
  privateKey?: string | undefined;
  privateKeyFile?: string | undefined;
  loginUrl?: string | undefined;
  jwtCertificate?: string | undefined;
}

/** The checked material: PEM texts read from their files. */
export interface SystemUserMaterial {
  token: string;
  privateKey: string;
  privateKeyFile?: string;
  loginUrl?: string;
  jwtCertificate?: { file: string; pem: string };
}

type Problem = { key: keyof SystemUserInput; message: string };

/** The contents of a small PEM file, or why not (the path is not a secret, the contents may be). */
function readPemFile(file: string): { text: string } | { problem: string } {
  try {
    return { text: readPemText(file) };
  } catch (error) {
    if (!(error instanceof PemFileError)) throw error;
    return { problem: error.reason === 'no such file' ? `file ${file} not found` : `file ${file} ${error.reason}` };
  }
}

/**
 * PEM from an environment variable often arrives with its line breaks written as "\n" (one line in
 * a .env file or a secret store): those are turned back into line breaks. RSAKeyValue XML is kept as it is.
 */
export function normalisePem(text: string): string {
  const trimmed = text.trim();
  return trimmed.includes('\n') ? trimmed : trimmed.replace(/(?:\\r)?\\n/g, '\n');
}

/** The elements of .NET's RSAKeyValue XML (how SuperOffice hands out an app's private key) and their JWK names. */
const RSA_XML_FIELDS = { Modulus: 'n', Exponent: 'e', D: 'd', P: 'p', Q: 'q', DP: 'dp', DQ: 'dq', InverseQ: 'qi' } as const;

export function isRsaKeyValueXml(text: string): boolean {
  return /^\s*(<\?xml[^>]*\?>\s*)?<RSAKeyValue[\s>]/.test(text);
}

/** The base64 values of an RSAKeyValue document by element name (a flat, fixed format: no XML parser needed). */
export function rsaKeyValueFields(xml: string): Partial<Record<keyof typeof RSA_XML_FIELDS, string>> {
  const fields: Partial<Record<keyof typeof RSA_XML_FIELDS, string>> = {};
  for (const name of Object.keys(RSA_XML_FIELDS) as (keyof typeof RSA_XML_FIELDS)[]) {
    const value = new RegExp(`<${name}>\\s*([A-Za-z0-9+/=\\s]+?)\\s*</${name}>`).exec(xml)?.[1];
    if (value !== undefined) fields[name] = value.replace(/\s+/g, '');
  }
  return fields;
}

/**
 * The app's private key from PEM (PKCS#8 or PKCS#1) or from the RSAKeyValue XML that SuperOffice's developer
 * portal gives out. Throws (a message without key material) when it is neither.
 */
export function parsePrivateKey(text: string): KeyObject {
  if (!isRsaKeyValueXml(text)) return createPrivateKey(text);
  const fields = rsaKeyValueFields(text);
  const jwk: Record<string, string> = { kty: 'RSA' };
  for (const [name, jwkName] of Object.entries(RSA_XML_FIELDS)) {
    const value = fields[name as keyof typeof RSA_XML_FIELDS];
    if (value === undefined) throw new Error(`RSAKeyValue without ${name}`);
    jwk[jwkName] = Buffer.from(value, 'base64').toString('base64url');
  }
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

/** Why `text` is not a usable RSA private key, or null when it is. Never includes the key. */
export function privateKeyProblem(text: string): string | null {
  const encrypted = 'is encrypted with a passphrase; give the unencrypted RSA key (PEM)';
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text)) return encrypted;
  try {
    const key = parsePrivateKey(text);
    if (key.asymmetricKeyType !== 'rsa') return `must be an RSA private key (this is a ${key.asymmetricKeyType ?? 'non-RSA'} key)`;
    return null;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'ERR_MISSING_PASSPHRASE') return encrypted;
    if (isRsaKeyValueXml(text))
      return 'is an RSAKeyValue XML key that cannot be read (it needs Modulus, Exponent, P, Q, DP, DQ, InverseQ and D)';
    return 'is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----) or RSAKeyValue XML';
  }
}

/** Why `pem` is not a usable certificate for RS256 JWTs, or null. */
export function certificateProblem(pem: string): string | null {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch {
    return 'is not an X.509 certificate in PEM form (-----BEGIN CERTIFICATE-----)';
  }
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') return 'must hold an RSA public key (SuperOffice signs its JWTs with RS256)';
  return null;
}

function privateKeyOf(input: SystemUserInput, problems: Problem[]): { pem: string; file?: string } | null {
  if (input.privateKey !== undefined && input.privateKeyFile !== undefined) return null; // reported by relations.ts
  if (input.privateKey !== undefined) {
    const pem = normalisePem(input.privateKey);
    const problem = privateKeyProblem(pem);
    if (problem) problems.push({ key: 'privateKey', message: problem });
    return problem ? null : { pem };
  }
  if (input.privateKeyFile === undefined) return null; // reported by relations.ts
  const file = input.privateKeyFile.trim();
  const read = readPemFile(file);
  if ('problem' in read) {
    problems.push({ key: 'privateKeyFile', message: read.problem });
    return null;
  }
  const problem = privateKeyProblem(normalisePem(read.text));
  if (problem) problems.push({ key: 'privateKeyFile', message: `file ${file} ${problem}` });
  return problem ? null : { pem: normalisePem(read.text), file };
}

function certificateOf(file: string | undefined, problems: Problem[]): { file: string; pem: string } | undefined {
  if (file === undefined) return undefined;
  const path = file.trim();
  const read = readPemFile(path);
  if ('problem' in read) {
    problems.push({ key: 'jwtCertificate', message: read.problem });
    return undefined;
  }
  const problem = certificateProblem(read.text);
  if (problem) problems.push({ key: 'jwtCertificate', message: `file ${path} ${problem}` });
  return problem ? undefined : { file: path, pem: read.text };
}

/** zod transform of the systemUser mapping: reads the files and reports every problem at its key. */
export function loadSystemUserMaterial(input: SystemUserInput, ctx: z.core.$RefinementCtx<SystemUserInput>): SystemUserMaterial {
  const problems: Problem[] = [];
  const key = privateKeyOf(input, problems);
  const jwtCertificate = certificateOf(input.jwtCertificate, problems);
  for (const problem of problems) ctx.addIssue({ code: 'custom', message: problem.message, path: [problem.key] });
  if (problems.length > 0 || !key) return z.NEVER;
  const material: SystemUserMaterial = { token: input.token.trim(), privateKey: key.pem };
  if (key.file !== undefined) material.privateKeyFile = key.file;
  if (input.loginUrl !== undefined) material.loginUrl = input.loginUrl;
  if (jwtCertificate) material.jwtCertificate = jwtCertificate;
  return material;
}

/** A systemUser mapping whose values are all blank (`token: ${SO_SYSTEM_USER_TOKEN:-}`) is not configured. */
export function blankMappingAsAbsent(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const values = Object.values(value as Record<string, unknown>);
  return values.every((v) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) ? undefined : value;
}
