// `course-illustrator bench`: the report a user reads to see where the time goes, from a real run
// of the CLI on the tiny pipeline (numbers are not judged here, only that they are there and sane).

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ensureFixture } from '../fixtures/tinyPipeline';
import { writeTinyTaesd } from '../fixtures/tinyTaesd';
import { runCli } from '../support/engineProcess';

describe('CLI bench', function () {
  this.timeout(120000);
  let model: string;
  let tmp: string;

  before(async () => {
    model = await ensureFixture('tiny-a');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-bench-test-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reports stage times, the overhead ratio, warm reuse and peak RSS, with TAESD previews counted', async () => {
    const taesd = await writeTinyTaesd(path.join(tmp, 'taesd'));
    const r = await runCli(['bench', '--model', model, '--steps', '3', '--scheduler', 'euler', '--width', '64', '--height', '64', '--threads', '1',
      '--preview-every', '1', '--preview-decoder', taesd, '--keep-sessions', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.strictEqual(report.previews, 'every 1 steps, decoded by the preview decoder');
    assert.strictEqual(report.warmJobHadNoLoad, true, 'the warm job loads neither the model nor the preview decoder');
    for (const job of [report.firstJob, report.warmJob]) {
      assert.strictEqual(job.unetStepSeconds.count, 3);
      assert.ok(job.sessionRunSeconds > 0 && job.sessionRunSeconds <= job.wallSeconds, JSON.stringify(job));
      assert.ok(job.overheadRatio >= 0 && job.overheadRatio < 1, JSON.stringify(job));
      // Each stage counted once: the decoder's session creation is load, not decode.
      const stages = job.loadSeconds + job.textEncoderSeconds + job.unetStepSeconds.mean * job.unetStepSeconds.count + job.vaeDecodeSeconds + job.saveSeconds;
      assert.ok(stages <= job.wallSeconds, JSON.stringify(job));
    }
    assert.ok(report.firstJob.loadSeconds > 0);
    assert.ok(report.peakRssMiB > 10);
    assert.doesNotMatch(r.stderr, /warning/);
  });

  it('--fast --baseline: the LCM setup, raw onnxruntime in a child process, the ratios and the rewritten graph\'s error', async () => {
    const r = await runCli(['bench', '--model', model, '--fast', '--baseline', '--width', '64', '--height', '64', '--threads', '1', '--json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.strictEqual(report.mode, 'fast (lcm, 4 steps, guidance 1)');
    assert.strictEqual(report.warmJob.unetStepSeconds.count, 4);
    assert.deepStrictEqual(Object.keys(report.graphs).sort(), ['textEncoder', 'unet', 'vaeDecoder']);
    const b = report.baseline;
    assert.strictEqual(b.unet.batch, 1, 'guidance 1: one UNet call per step, in the baseline too');
    assert.strictEqual(b.unet.stepSeconds.length, 4, 'two runs of warm-up, two warm');
    assert.strictEqual(b.vaeDecode.runSeconds.length, 3);
    // Raw's warm figures leave out its first two runs (its memory-pattern planner allocates at the second).
    const mean = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    assert.strictEqual(b.rawUnetStepSeconds, mean(b.unet.stepSeconds.slice(2)));
    assert.strictEqual(b.rawVaeDecodeSeconds, b.vaeDecode.runSeconds[2]);
    assert.strictEqual(b.ratios.unetStep, report.warmJob.unetStepSeconds.mean / b.rawUnetStepSeconds);
    for (const k of ['unetStep', 'vaeDecode', 'image']) assert.ok(b.ratios[k] > 0 && Number.isFinite(b.ratios[k]), k);
    assert.ok(b.unetRelativeError < 1e-5, `the engine's UNet vs the raw graph: ${b.unetRelativeError}`);
    assert.ok(b.peakRssMiB > 10);
  });

  it('--int8 --baseline: the int8 UNet made (calibrated) on first use, and its error against the raw graph reported', async () => {
    const env = { COURSE_ILLUSTRATOR_CACHE: path.join(tmp, 'cache') };
    const r = await runCli(['bench', '--model', model, '--int8', '--baseline', '--steps', '2', '--width', '64', '--height', '64', '--threads', '1', '--json'], { env });
    assert.strictEqual(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.strictEqual(report.runtime.unetWeights, 'int8');
    assert.ok(report.graphs.unet.some((n: string) => /convolutions in 8 bits/.test(n)), report.graphs.unet.join('; '));
    const b = report.baseline;
    assert.strictEqual(b.unetWeights, 'int8');
    assert.ok(b.unetRelativeL2 > 0 && b.unetRelativeL2 < 0.05, `the int8 UNet vs the raw graph: ${b.unetRelativeL2}`);
  });
});
