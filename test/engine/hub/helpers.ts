// Shared set-up for the model download tests: a hub on loopback serving the tiny-a fixture, a
// fresh store folder per test, and fast retry settings so failure paths finish in milliseconds.

import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { HubServer } from '../../support/hubServer';
import type { PullTarget } from '../../../src/engine/hub/catalogue';
import { HubClient, HubOptions } from '../../../src/engine/hub/hub';
import { PullOptions, PullProgress, PullResult, pullModel } from '../../../src/engine/hub/download';

export const REPO = 'test-org/tiny-sd-onnx';

export const TARGET: PullTarget = {
  id: 'tiny',
  title: 'Tiny SD (test)',
  repo: REPO,
  revision: 'main',
  kind: 'pipeline',
  require: ['model_index.json', 'unet/model.onnx', 'text_encoder/model.onnx', 'vae_decoder/model.onnx', 'tokenizer/vocab.json'],
  include: ['**'],
  exclude: [],
};

export const FAST_RETRY = { retries: 3, baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 20 };

export async function fixtureDir(): Promise<string> {
  return ensureFixture('tiny-a');
}

export async function startHub(): Promise<HubServer> {
  return HubServer.start([{ repo: REPO, dir: await fixtureDir() }]);
}

export async function tempStore(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'ci-models-'));
}

/** A no-proxy client pointed at the test hub (env is empty so a developer's HTTPS_PROXY is ignored). */
export function client(hub: HubServer, opts: HubOptions = {}): HubClient {
  return new HubClient({ endpoint: hub.endpoint, stallTimeoutMs: 2000, env: {}, ...opts });
}

export async function pull(
  hub: HubServer,
  store: string,
  extra: Partial<PullOptions> & { hubOptions?: HubOptions } = {},
): Promise<PullResult & { progress: PullProgress[] }> {
  const progress: PullProgress[] = [];
  const { hubOptions, ...rest } = extra;
  const result = await pullModel({
    store,
    target: TARGET,
    hub: client(hub, hubOptions),
    retry: FAST_RETRY,
    progressIntervalMs: 0,
    onProgress: (p) => progress.push(p),
    ...rest,
  });
  return { ...result, progress };
}

/** Every file below `dir` (relative, sorted), the manifest and staging left out. */
export async function listFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  } catch {
    return [];
  }
  for (const e of entries) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(dir, r)));
    else out.push(r);
  }
  return out.sort();
}

export async function fixtureBytes(): Promise<number> {
  const dir = await fixtureDir();
  let n = 0;
  for (const f of await listFiles(dir)) n += (await fs.stat(path.join(dir, f))).size;
  return n;
}

/** Runs `fn` and returns the error it throws (fails when it does not throw). */
export async function rejection(fn: () => Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a failure, but it succeeded');
}
