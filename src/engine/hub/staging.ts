// The staging folder of one pull (layout in store.ts): what an earlier run left that can still be
// trusted, the state file that lets the next run trust it, and the one rename that installs the
// model. Until that rename the store is as it was, plus resumable part files.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { formatBytes } from '../../core/format';
import { writeFileAtomic } from '../image/atomicWrite';
import { ModelError, fileError } from './errors';
import { Wanted, identityOf } from './fileSelection';
import { under } from './paths';
import { MANIFEST_NAME, ModelManifest, ModelSource, StagingState, readManifest, readStagingState, renameWithRetry, stagingPaths } from './store';
import { sizeOf } from './verification';

/** The staging state and the manifest: replaced in one step, and on disk before anything relies on them. */
const SMALL_STATE_FILE = { overwrite: true, sync: true } as const;

export type StagingPaths = ReturnType<typeof stagingPaths>;

export class Staging {
  /** Files whose bytes sit verified under their final name in the staging folder. */
  readonly verified: StagingState['verified'];
  private readonly state: StagingState;
  private stateWrite = Promise.resolve();

  constructor(
    readonly paths: StagingPaths,
    private readonly store: string,
    private readonly source: ModelSource,
    files: Wanted[],
    verified: StagingState['verified'],
  ) {
    this.verified = verified;
    this.state = { ...source, files: files.map(({ path: p, size, sha256, gitOid }) => ({ path: p, size, sha256, gitOid })), verified };
  }

  partOf(f: Wanted): string {
    return under(this.paths.parts, f.path);
  }

  destOf(f: Wanted): string {
    return under(this.paths.dir, f.path);
  }

  /** The first write must succeed: a pull whose progress cannot be recorded does not start. */
  async writeState(): Promise<void> {
    await writeFileAtomic(this.paths.state, JSON.stringify(this.state, null, 1), SMALL_STATE_FILE).catch((err) => {
      throw fileError(err, this.paths.state, this.store);
    });
  }

  /** Later writes are best effort; a lost one only costs a re-check of files on the next run. */
  saveState(): Promise<void> {
    // Writes are chained so two finishing files never race on the same temp file.
    this.stateWrite = this.stateWrite.then(() => writeFileAtomic(this.paths.state, JSON.stringify(this.state, null, 1), SMALL_STATE_FILE)).then(() => undefined, () => undefined);
    return this.stateWrite;
  }

  /** Puts a verified part under its final name; synced first, so a crash cannot leave it short. */
  async moveIntoPlace(f: Wanted, part: string, dest: string): Promise<void> {
    try {
      const fh = await fs.open(part, 'r+');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await renameWithRetry(part, dest);
    } catch (err) {
      throw fileError(err, f.path, this.store);
    }
  }

  markVerified(f: Wanted, sha256: string): void {
    this.verified[f.path] = { identity: f.identity, sha256 };
  }

  /** Bytes each file already has: its full size once verified, else what its part holds. */
  async bytesOnDisk(files: Wanted[]): Promise<Map<string, number>> {
    const onDisk = new Map<string, number>();
    for (const f of files) {
      if (this.verified[f.path]) {
        onDisk.set(f.path, f.size);
        continue;
      }
      const part = this.partOf(f);
      let have = await sizeOf(part);
      if (have > f.size) {
        await fs.rm(part, { force: true });
        have = 0;
      }
      onDisk.set(f.path, have);
    }
    return onDisk;
  }

  /** Every file verified: writes the manifest, then makes the model appear in one rename. */
  async install(final: string, files: Wanted[]): Promise<ModelManifest> {
    const sp = this.paths;
    const manifest: ModelManifest = {
      ...this.source,
      installedAt: new Date().toISOString(),
      files: files.map((f) => ({ path: f.path, size: f.size, sha256: this.verified[f.path]?.sha256 ?? '', gitOid: f.gitOid })),
    };
    try {
      await writeFileAtomic(path.join(sp.dir, MANIFEST_NAME), JSON.stringify(manifest, null, 1), SMALL_STATE_FILE);
      await renameWithRetry(sp.dir, final);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'EEXIST' || code === 'ENOTEMPTY') && (await readManifest(final))) {
        // Installed meanwhile by someone else (a copy by hand): keep theirs.
        await fs.rm(sp.dir, { recursive: true, force: true });
      } else {
        throw fileError(err, final, this.store);
      }
    }
    await fs.rm(sp.state, { force: true });
    await fs.rm(sp.parts, { recursive: true, force: true });
    await fs.rmdir(path.dirname(sp.parts)).catch(() => undefined); // kept while other downloads use it
    return (await readManifest(final)) ?? manifest;
  }
}

/**
 * Opens the staging folder for `files`, keeping what an earlier run verified as long as the hub
 * still describes the same file, and records the new state before any download starts.
 */
export async function openStaging(sp: StagingPaths, store: string, source: ModelSource, files: Wanted[]): Promise<Staging> {
  const prev = await readStagingState(sp.state);
  const sameSource = prev && prev.repo === source.repo;
  if (!sameSource) {
    await fs.rm(sp.dir, { recursive: true, force: true });
    await fs.rm(sp.parts, { recursive: true, force: true });
  }
  await fs.mkdir(sp.dir, { recursive: true });
  await fs.mkdir(sp.parts, { recursive: true });
  // Anything else there (an older layout, files no longer wanted) goes first.
  const wantedPaths = new Set(files.map((f) => f.path));
  await pruneTree(sp.dir, wantedPaths);
  await pruneTree(sp.parts, wantedPaths);
  const staging = new Staging(sp, store, source, files, {});
  for (const f of files) {
    const v = sameSource ? prev.verified[f.path] : undefined;
    const dest = staging.destOf(f);
    const part = staging.partOf(f);
    const prevFile = sameSource ? prev.files.find((p) => p.path === f.path) : undefined;
    const destSize = await sizeOf(dest);
    if (v && v.identity === f.identity && destSize === f.size) {
      staging.verified[f.path] = v;
    } else if (sameSource && destSize === f.size && (!prevFile || identityOf(prevFile) === f.identity)) {
      // Renamed into place just before a crash, state not saved: check it again as a complete part.
      await fs.rm(part, { force: true });
      await fs.mkdir(path.dirname(part), { recursive: true });
      await fs.rename(dest, part).catch(() => fs.rm(dest, { force: true }));
    } else {
      await fs.rm(dest, { force: true });
    }
    if (prevFile && identityOf(prevFile) !== f.identity) await fs.rm(part, { force: true });
  }
  await staging.writeState();
  return staging;
}

/** Failing after 3 GB is worse than failing now; where statfs is unsupported the write reports ENOSPC. */
export async function checkFreeSpace(dir: string, needed: number, reserve: number, title: string, store: string): Promise<void> {
  try {
    const st = await fs.statfs(dir);
    const free = Number(st.bavail) * Number(st.bsize);
    if (free < needed + reserve) {
      throw new ModelError(
        'diskFull',
        `Not enough disk space for ${title}: ${formatBytes(needed)} still to download (plus ${formatBytes(reserve)} to spare), ${formatBytes(free)} free in ${store}. ` +
          'Free some space or choose another model store (setting courseIllustrator.modelStore, or $COURSE_ILLUSTRATOR_MODELS for the CLI).',
      );
    }
  } catch (err) {
    if (err instanceof ModelError) throw err;
  }
}

/** Deletes everything below `dir` that is not one of the `keep` paths (folders emptied go too). */
async function pruneTree(dir: string, keep: Set<string>): Promise<void> {
  const walk = async (rel: string): Promise<boolean> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return false;
    }
    let kept = false;
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (await walk(r)) kept = true;
        else await fs.rm(path.join(dir, r), { recursive: true, force: true });
      } else if (keep.has(r) && e.isFile()) {
        kept = true;
      } else {
        await fs.rm(path.join(dir, r), { force: true });
      }
    }
    return kept;
  };
  await walk('');
}
