/** CA certificate files named in the config (mail.tls.ca and the like): read and checked at load time, read again when used. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The file cannot serve as a CA bundle; the message says why (never the file's content). */
export class CaFileError extends Error {
  override name = 'CaFileError';
}

/** The PEM text of the CA certificates in `path` (relative to the working directory). Throws CaFileError. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code || 'unreadable';
    throw new CaFileError(`cannot read the CA file ${path} (${reason})`);
  }
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) throw new CaFileError(`${path} is not a PEM certificate file (no -----BEGIN CERTIFICATE----- block)`);
  blocks.forEach((block, index) => {
    try {
      new X509Certificate(block);
    } catch {
      throw new CaFileError(`${path}: certificate ${index + 1} of ${blocks.length} cannot be read (damaged PEM)`);
    }
  });
  return blocks.join('\n');
}

/** Why `path` is not a usable CA file, or undefined. */
export function caFileProblem(path: string): string | undefined {
  try {
    readCaFile(path);
    return undefined;
  } catch (error) {
    if (error instanceof CaFileError) return error.message;
    throw error;
  }
}
