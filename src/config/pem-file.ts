/** Reading a CA file named in the config (PEM): the problem, if any, in words for the operator. */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The PEM text of the file, or throws an Error saying why it cannot serve as a CA file. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    throw new Error(code === 'ENOENT' ? `file ${path} not found` : `cannot read ${path} (${code || String(error)})`);
  }
  const certificates = text.match(CERTIFICATE) ?? [];
  if (certificates.length === 0) throw new Error(`${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  for (const pem of certificates) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new Error(`${path} holds a certificate that cannot be read (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return text;
}
