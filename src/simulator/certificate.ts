/** A self-signed X.509 certificate for a key pair made with node:crypto (node:crypto reads certificates but cannot make one). */
import type { KeyObject } from 'node:crypto';
import forge from 'node-forge';

/** PEM certificate for `publicKey`, signed with `privateKey` (SHA-256), valid from a day ago for `days` days. */
export function selfSignedCertificate(publicKey: KeyObject, privateKey: KeyObject, commonName: string, days = 3650): string {
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A positive serial: 16 random hex digits with a leading 1 so the DER integer is never negative.
  certificate.serialNumber = `1${forge.util.bytesToHex(forge.random.getBytesSync(8))}`;
  const now = Date.now();
  certificate.validity.notBefore = new Date(now - 24 * 60 * 60 * 1000);
  certificate.validity.notAfter = new Date(now + days * 24 * 60 * 60 * 1000);
  const name = [{ name: 'commonName', value: commonName }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.sign(forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()), forge.md.sha256.create());
  return forge.pki.certificateToPem(certificate);
}
