/** superoffice.systemUser at load: reads and checks the private key and the JWT certificate, never echoing key material. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';

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

/** A PEM file is a few kilobytes; anything much bigger is the wrong file. */
const MAX_PEM_BYTES = 64 * 1024;

type Problem = { key: keyof SystemUserInput; message: string };

/** The contents of a small text file, or why not (the path is not a secret, the contents may be). */
function readPemFile(file: string): { text: string } | { problem: string } {
  try {
    const size = statSync(file).size;
    if (size > MAX_PEM_BYTES) return { problem: `file ${file} is ${size} bytes; a PEM file is a few kilobytes (wrong file?)` };
    return { text: readFileSync(file, 'utf8') };
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'ENOENT') return { problem: `file ${file} not found` };
    if (code === 'EISDIR') return { problem: `${file} is a directory, not a file` };
    if (code === 'EACCES' || code === 'EPERM') return { problem: `file ${file} cannot be read by this user (${code})` };
    return { problem: `file ${file} cannot be read (${code || 'error'})` };
  }
}

/**
 * PEM from an environment variable often arrives with its line breaks written as "\n" (one line in
 * a .env file or a secret store): those are turned back into line breaks.
 */
export function normalisePem(text: string): string {
  const trimmed = text.trim();
  return trimmed.includes('\n') ? trimmed : trimmed.replace(/(?:\\r)?\\n/g, '\n');
}

/** Why `pem` is not a usable RSA private key, or null when it is. Never includes the key. */
export function privateKeyProblem(pem: string): string | null {
  const encrypted = 'is encrypted with a passphrase; give the unencrypted RSA key (PEM)';
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(pem)) return encrypted;
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== 'rsa') return `must be an RSA private key (this is a ${key.asymmetricKeyType ?? 'non-RSA'} key)`;
    return null;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'ERR_MISSING_PASSPHRASE') return encrypted;
    return 'is not an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)';
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
