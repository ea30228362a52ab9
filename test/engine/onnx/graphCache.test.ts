import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IN_MEMORY_MAX_BYTES, keepGraph } from '../../../src/engine/onnx/graph/graphCache';

describe('rewritten graphs between sessions (graphCache)', () => {
  it('keeps a small graph as bytes and a large one (weights inline) as one cache file, written once', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-graphs-'));
    try {
      const small = new Uint8Array(1000).fill(1);
      assert.equal(await keepGraph(small, 'a', dir), small);
      assert.deepEqual(await fs.readdir(dir), [], 'nothing written for a small graph');
      const large = new Uint8Array(IN_MEMORY_MAX_BYTES + 1).fill(2);
      const file = await keepGraph(large, 'b', dir);
      assert.equal(typeof file, 'string');
      assert.ok((await fs.readFile(file as string)).equals(Buffer.from(large)));
      const mtime = (await fs.stat(file as string)).mtimeMs;
      assert.equal(await keepGraph(large, 'b', dir), file);
      assert.equal((await fs.stat(file as string)).mtimeMs, mtime, 'not written again');
      assert.notEqual(await keepGraph(large, 'c', dir), file, 'another source graph, another file');
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
