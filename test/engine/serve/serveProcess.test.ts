// `course-illustrator serve` as a real child process: the command line, the startup line, the
// warning for a non-loopback address without --api-auth, and a clean stop on SIGTERM / SIGINT
// (queued and running requests answered 503, private folder removed, exit status 0).

import * as assert from 'assert';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ensureFixture, repoRoot } from '../../fixtures/tinyPipeline';
import { progress, txt2img } from './a1111Client';

interface Served {
  child: ChildProcess;
  url: string;
  tempRoot: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Runs the CLI through tsx (test/engine/serve/serveMain.ts) and waits for its startup line. */
async function start(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serveMain.ts'), 'serve', ...args], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const started = await new Promise<{ url: string; tempRoot: string }>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const url = /listening on (http:\/\/\S+?)\/sdapi\/v1\//.exec(stderr)?.[1];
      const tempRoot = /private folder for uploads and images: (\S+)/.exec(stderr)?.[1];
      if (url && tempRoot) resolve({ url, tempRoot });
    });
    void exit.then((code) => reject(new Error(`serve exited ${code} before listening:\n${stderr}`)));
  });
  return { child, ...started, stderr: () => stderr, exit };
}

describe('serve: child process, shutdown on signals', function () {
  this.timeout(180_000);
  let model: string;

  before(async () => {
    model = await ensureFixture('tiny-a');
  });

  it('on SIGTERM stops accepting, answers queued and running requests 503, removes its folder and exits 0', async () => {
    const s = await start(['--model', model, '--listen', '127.0.0.1:0', '--max-queue', '4', '--threads', '1']);
    try {
      assert.ok(fs.existsSync(s.tempRoot));
      assert.ok(!/warning/.test(s.stderr()), s.stderr());
      const long = txt2img(s.url, { prompt: 'long', seed: 1, steps: 150, width: 512, height: 512, batch_size: 16 });
      for (;;) {
        if ((await progress(s.url)).json.state.sampling_step > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const queued = [txt2img(s.url, { prompt: 'q1', steps: 4, width: 64, height: 64 }), txt2img(s.url, { prompt: 'q2', steps: 4, width: 64, height: 64 })];
      await new Promise((r) => setTimeout(r, 300));
      s.child.kill('SIGTERM');
      const answers = await Promise.all([long, ...queued]);
      assert.deepStrictEqual(answers.map((a) => a.status), [503, 503, 503], JSON.stringify(answers.map((a) => a.json)));
      assert.match(answers[1].json.detail, /shutting down/);
      assert.strictEqual(await s.exit, 0, s.stderr());
      assert.ok(!fs.existsSync(s.tempRoot), 'the private folder is removed');
      assert.match(s.stderr(), /SIGTERM: stopping/);
      assert.ok(!s.stderr().includes('long'), 'prompts are not logged');
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('warns on a non-loopback address without --api-auth, and stops on SIGINT with exit 0', async () => {
    const s = await start(['--model', model, '--listen', '0.0.0.0:0', '--threads', '1']);
    try {
      assert.match(s.stderr(), /warning: listening on 0\.0\.0\.0.*without --api-auth/);
      const port = new URL(s.url).port;
      assert.strictEqual((await txt2img(`http://127.0.0.1:${port}`, { prompt: 'x', steps: 4, width: 64, height: 64 })).status, 200);
      s.child.kill('SIGINT');
      assert.strictEqual(await s.exit, 0, s.stderr());
    } finally {
      if (s.child.exitCode === null) s.child.kill('SIGKILL');
    }
  });

  it('refuses bad options with exit status 2 and a message that says what to do', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'serveMain.ts'), 'serve', '--model', model, '--listen', 'nowhere'], { cwd: repoRoot() });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((r) => child.on('exit', r));
    assert.strictEqual(code, 2);
    assert.match(stderr, /--listen must be HOST:PORT/);
  });
});
