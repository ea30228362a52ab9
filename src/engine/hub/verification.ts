// Whether a finished part file is the listed file: its size, then sha256 against the hub's LFS
// oid (weights) or the git blob sha1 (small files). Hashes are fed as the bytes are written, so a
// multi-gigabyte file is not read twice; a resumed part is re-read once to rebuild them.

import { createHash, Hash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { formatBytes } from '../../core/format';
import { ModelError } from './errors';
import type { Wanted } from './fileSelection';

export async function sizeOf(p: string): Promise<number> {
  try {
    return (await fs.stat(p)).size;
  } catch {
    return 0;
  }
}

/** Content hashes of one file being written, rebuilt from the .part file on resume. */
export class FileHasher {
  sha256: Hash = createHash('sha256');
  gitSha1?: Hash;
  constructor(private readonly file: Wanted) {
    this.reset();
  }
  reset(): void {
    this.sha256 = createHash('sha256');
    if (!this.file.sha256 && this.file.gitOid) {
      this.gitSha1 = createHash('sha1');
      this.gitSha1.update(`blob ${this.file.size}\0`);
    }
  }
  update(chunk: Buffer): void {
    this.sha256.update(chunk);
    this.gitSha1?.update(chunk);
  }
}

/** Short is a broken connection (worth a retry); long cannot be the file, so the part goes. */
export async function checkPartSize(f: Wanted, part: string): Promise<void> {
  const got = await sizeOf(part);
  if (got < f.size) throw new ModelError('truncated', `${f.path}: the connection closed after ${formatBytes(got)} of ${formatBytes(f.size)}.`, true);
  if (got > f.size) {
    await fs.rm(part, { force: true });
    throw new ModelError('hashMismatch', `${f.path} has ${got} bytes, the hub lists ${f.size}.`);
  }
}

/** Returns the part's sha256; a part whose hashes differ from the list's is deleted. */
export async function checkHashes(f: Wanted, part: string, hasher: FileHasher): Promise<string> {
  const sha = hasher.sha256.digest('hex');
  if (f.sha256 && sha !== f.sha256) {
    await fs.rm(part, { force: true });
    throw new ModelError('hashMismatch', `sha256 of ${f.path} is ${sha.slice(0, 12)}…, the hub lists ${f.sha256.slice(0, 12)}….`);
  }
  if (hasher.gitSha1) {
    const oid = hasher.gitSha1.digest('hex');
    if (oid !== f.gitOid) {
      await fs.rm(part, { force: true });
      throw new ModelError('hashMismatch', `git id of ${f.path} is ${oid.slice(0, 12)}…, the hub lists ${f.gitOid?.slice(0, 12)}….`);
    }
  }
  return sha;
}
