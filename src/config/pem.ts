/** Reads a PEM file of CA certificates (for a `tls.ca` key) and says plainly what is wrong with it. */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export type CaFileResult = { ok: true; pem: string } | { ok: false; problem: string };

export function readCaFile(path: string): CaFileResult {
  if (path === '') return { ok: false, problem: 'must be the path of a PEM file with the CA certificate(s)' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code || 'error'})`;
    return { ok: false, problem: `${path}: ${why}; give the path of a PEM file with the CA certificate(s)` };
  }
  const blocks = text.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) return { ok: false, problem: `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` };
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return { ok: false, problem: `${path}: certificate ${index + 1} is not a valid X.509 certificate` };
    }
  }
  return { ok: true, pem: blocks.join('\n') };
}
