/** PEM files named in the config (CA bundles, the system user's key and JWT certificate): read bounded, checked at load time, read again when used. */
import { X509Certificate } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A key or a certificate is a few kilobytes; anything much bigger is the wrong file. */
export const MAX_PEM_BYTES = 64 * 1024;
/** A CA bundle may hold every public root (about 200 KiB); ten times a single PEM file's room for that. */
export const MAX_CA_BUNDLE_BYTES = 1024 * 1024;

/** The file cannot serve as a CA bundle; the message says why (never the file's content). */
export class CaFileError extends Error {
  override name = 'CaFileError';
}

/** A PEM file that cannot be read; the message names the path and why, never the content. */
export class PemFileError extends Error {
  override name = 'PemFileError';
  constructor(
    readonly path: string,
    /** Why, without the path: "no such file", "is a directory", "is not a regular file (...)", ... */
    readonly reason: string,
  ) {
    super(`file ${path}: ${reason}`);
  }
}

/**
 * The text of the regular file `path`, never more than `limit` bytes. Opened without blocking and checked to be
 * a regular file before anything is read: a FIFO would wait for a writer forever and /dev/zero never ends
 * (a size from stat is 0 for both). Throws PemFileError.
 */
export function readPemText(path: string, limit = MAX_PEM_BYTES): string {
  let fd: number;
  try {
    fd = openSync(resolve(path), constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw new PemFileError(path, readProblem(error));
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw new PemFileError(path, 'is a directory, not a file');
    if (!stat.isFile()) throw new PemFileError(path, 'is not a regular file: a FIFO, socket or device cannot serve as a PEM file');
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (let read = -1; read !== 0 && length <= limit; length += read) {
      read = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > limit) throw new PemFileError(path, `is larger than ${limit / 1024} KiB; a PEM file is a few kilobytes (wrong file?)`);
    return buffer.toString('utf8', 0, length);
  } catch (error) {
    if (error instanceof PemFileError) throw error;
    throw new PemFileError(path, readProblem(error));
  } finally {
    closeSync(fd);
  }
}

function readProblem(error: unknown): string {
  const code = error instanceof Error && 'code' in error ? String(error.code) : '';
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory, not a file';
  if (code === 'EACCES' || code === 'EPERM') return `cannot be read by this user (${code})`;
  return `cannot be read (${code || 'error'})`;
}

/** The PEM text of the CA certificates in `path` (relative to the working directory). Throws CaFileError. */
export function readCaFile(path: string): string {
  let text: string;
  try {
    text = readPemText(path, MAX_CA_BUNDLE_BYTES);
  } catch (error) {
    if (error instanceof PemFileError) throw new CaFileError(`cannot read the CA file ${path} (${error.reason})`);
    throw error;
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
