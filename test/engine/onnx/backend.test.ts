import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import * as ort from 'onnxruntime-node';
import { linuxPhysicalCores, physicalCoreCount, resolveProvider, sessionOptions, threadsFor } from '../../../src/engine/onnx/backend';

describe('onnx backend', () => {
  it('uses the CPU when asked, without a warning', () => {
    assert.deepEqual(resolveProvider('cpu'), { provider: 'cpu', executionProviders: ['cpu'] });
  });

  it('falls back to the CPU when CUDA is not installed, saying why and what to install', function () {
    const cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
    if (cuda?.bundled) this.skip(); // a CUDA build of onnxruntime-node
    const r = resolveProvider('cuda');
    assert.equal(r.provider, 'cpu');
    assert.deepEqual(r.executionProviders, ['cpu']);
    assert.match(r.warning ?? '', /CUDA is not (installed|available)/);
    assert.match(r.warning ?? '', /using the CPU/);
    assert.match(r.warning ?? '', /cuda12|CUDA 12/);
  });

  it('falls back for providers this platform does not have (DirectML off Windows, CoreML off macOS)', () => {
    const linux = [{ name: 'cpu', bundled: true }, { name: 'webgpu', bundled: true }];
    const dml = resolveProvider('dml', linux);
    assert.equal(dml.provider, 'cpu');
    assert.match(dml.warning ?? '', /DirectML is not available .*it has: cpu, webgpu/);
    assert.match(dml.warning ?? '', /Windows/);
    const coreml = resolveProvider('coreml', linux);
    assert.match(coreml.warning ?? '', /macOS/);
  });

  it('keeps a provider onnxruntime-node has', () => {
    const list = [{ name: 'cpu', bundled: true }, { name: 'dml', bundled: true }, { name: 'cuda', bundled: false }];
    assert.deepEqual(resolveProvider('dml', list), { provider: 'dml', executionProviders: ['dml', 'cpu'] });
    // A separately installed library that is present is used; one that is missing is not.
    assert.equal(resolveProvider('cuda', list, () => true).provider, 'cuda');
    assert.equal(resolveProvider('cuda', list, () => false).provider, 'cpu');
  });

  it('counts physical cores from /proc/cpuinfo, not hyper-threads', () => {
    const block = (p: number, phys: number, core: number) => `processor\t: ${p}\nphysical id\t: ${phys}\ncore id\t\t: ${core}\n`;
    const ht = [block(0, 0, 0), block(1, 0, 1), block(2, 0, 0), block(3, 0, 1)].join('\n');
    assert.equal(linuxPhysicalCores(ht), 2);
    const twoSockets = [block(0, 0, 0), block(1, 1, 0), block(2, 0, 1), block(3, 1, 1)].join('\n');
    assert.equal(linuxPhysicalCores(twoSockets), 4);
    assert.equal(linuxPhysicalCores('processor\t: 0\nBogoMIPS\t: 50.00\n'), undefined); // e.g. ARM
    const n = physicalCoreCount();
    assert.ok(Number.isInteger(n) && n >= 1 && n <= os.availableParallelism());
  });

  it('gives every vCPU of a small VM a thread, and physical cores on larger machines', () => {
    // A 2-vCPU VM whose cpuinfo shows one core with two siblings.
    assert.equal(threadsFor({ usable: 2, cores: 1, arm: false }), 2);
    assert.equal(threadsFor({ usable: 4, cores: 2, arm: false }), 4);
    assert.equal(threadsFor({ usable: 16, cores: 8, arm: false }), 8);
    assert.equal(threadsFor({ usable: 16, arm: false }), 8);
    assert.equal(threadsFor({ usable: 10, arm: true }), 10);
    assert.equal(threadsFor({ usable: 64, cores: 32, arm: false, quota: 2 }), 2);
    assert.equal(threadsFor({ usable: 2, cores: 1, arm: false, quota: 1 }), 1);
  });

  it('builds session options: threads, no spin-waiting, no memory-pattern planner; CPU graphs at "extended"', () => {
    const o = sessionOptions({ executionProviders: ['cpu'] }, 3, 'unet');
    assert.equal(o.intraOpNumThreads, 3);
    assert.equal(o.graphOptimizationLevel, 'extended');
    assert.equal(o.enableMemPattern, false);
    assert.equal(o.enableCpuMemArena, true);
    assert.equal(sessionOptions({ executionProviders: ['cpu'] }, 3, 'unet', { optimize: false }).graphOptimizationLevel, 'disabled');
    assert.equal(sessionOptions({ executionProviders: ['cpu'] }, 3, 'vaeDecoder', { smallWeights: true }).graphOptimizationLevel, 'all');
    assert.equal(sessionOptions({ executionProviders: ['webgpu', 'cpu'] }, 3, 'unet').graphOptimizationLevel, 'all');
    assert.deepEqual(o.executionProviders, ['cpu']);
    assert.equal((o.extra as Record<string, string>)['session.intra_op.allow_spinning'], '0');
    assert.equal(sessionOptions({ executionProviders: ['cpu'] }, 0, 'x').intraOpNumThreads, physicalCoreCount());
  });
});
