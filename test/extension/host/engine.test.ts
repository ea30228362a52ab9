import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { GenerationOutcome } from '../../../src/extension/generation/generateAndInsert';
import { api, freshMarkdown, waitFor, workspaceDir } from './helpers';

describe('engine life cycle', () => {
  it('reuses the warm engine: same pid, the model still loaded the second time', async () => {
    const { services } = await api();
    await freshMarkdown('course/warm.md', '\n');
    const a = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a small house', seed: 1 });
    const s1 = await services.engine.status();
    const b = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a small house', seed: 2 });
    const s2 = await services.engine.status();
    assert.ok(a && b);
    assert.strictEqual(s2.pid, s1.pid);
    // The model folder stays loaded; on the CPU its sessions come and go per stage (memory), so
    // the second job's load time is their re-creation only.
    assert.deepStrictEqual(s2.loadedModels, s1.loadedModels);
    assert.strictEqual(s1.loadedModels.length, 1);
  });

  it('fails the running job clearly when the engine is killed, and the next job starts a new engine', async () => {
    const { services } = await api();
    const model = services.config().modelPath;
    const before = (await services.engine.status()).pid;
    let sawProgress = false;
    const job = services.engine.generate(
      { model, prompt: 'a slow mountain', seed: 5, steps: 150, width: 512, height: 512, outDir: os.tmpdir() },
      { onProgress: () => (sawProgress = true) },
    );
    await waitFor('first progress', () => sawProgress, 60_000);
    process.kill(before, 'SIGKILL');
    await assert.rejects(job, (e: Error & { kind?: string }) => {
      assert.strictEqual(e.kind, 'crashed');
      assert.match(e.message, /engine process stopped unexpectedly.*next job starts a new engine/s);
      return true;
    });
    await freshMarkdown('course/after-crash.md', '\n');
    const next = await vscode.commands.executeCommand<GenerationOutcome>('courseIllustrator.generate', { prompt: 'a calm lake', seed: 9 });
    assert.ok(next, 'the next job works');
    const after = (await services.engine.status()).pid;
    assert.notStrictEqual(after, before);
  });

  it('cancels a running job through Cancel Generation', async () => {
    const { services } = await api();
    const model = services.config().modelPath;
    let sawProgress = false;
    const job = services.engine.generate(
      { model, prompt: 'a long river', seed: 6, steps: 150, width: 512, height: 512, outDir: os.tmpdir() },
      { onProgress: () => (sawProgress = true) },
    );
    await waitFor('first progress', () => sawProgress, 60_000);
    const cancelled = await vscode.commands.executeCommand<number>('courseIllustrator.cancel');
    assert.strictEqual(cancelled, 1);
    await assert.rejects(job, (e: Error & { kind?: string }) => e.kind === 'cancelled');
    // The engine survives a cancel.
    assert.ok((await services.engine.status()).pid > 0);
  });
});

describe('cancelling a generation from the command', () => {
  it('inserts nothing and leaves no empty image folder behind', async () => {
    const { services } = await api();
    const editor = await freshMarkdown('course/cancelled.md', 'x\n');
    const pending = vscode.commands.executeCommand('courseIllustrator.generate', { prompt: 'a slow tide', seed: 3, steps: 150, size: '512x512' });
    await waitFor('the job to run', () => services.engine.activeJobs().length > 0, 30_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.strictEqual(await vscode.commands.executeCommand('courseIllustrator.cancel'), 1);
    assert.strictEqual(await pending, undefined);
    assert.strictEqual(editor.document.getText(), 'x\n');
    assert.ok(!fs.existsSync(path.join(workspaceDir(), 'course', 'images', 'cancelled')), 'the folder made for the job is gone');
  });
});
