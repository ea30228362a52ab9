import * as assert from 'node:assert/strict';
import { extractLoraTags } from '../../../src/core/loraTags';
import { withoutLoraTags } from '../../../src/core/loraTags';
import { loraArgs, parseArgs } from '../../../src/engine/cliArgs';
import { validateGenerateParams } from '../../../src/core/protocol';

describe('<lora:NAME:MULT> prompt tags', () => {
  it('takes the tags out of the text, multiplier 1 by default', () => {
    const r = extractLoraTags('a plant cell, <lora:watercolor:0.8> diagram <lora:Line Art v2> <LYCO:ink:-.5>');
    assert.equal(r.text, 'a plant cell,  diagram  ');
    assert.deepEqual(r.tags.map((t) => [t.name, t.multiplier]), [['watercolor', 0.8], ['Line Art v2', 1], ['ink', -0.5]]);
    assert.deepEqual(r.problems, []);
  });

  it('leaves other angle brackets alone and says what is wrong with a bad tag', () => {
    assert.deepEqual(extractLoraTags('x <hypernet:a:1> < y >').tags, []);
    assert.equal(extractLoraTags('x <hypernet:a:1>').text, 'x <hypernet:a:1>');
    const r = extractLoraTags('<lora:a:lots> <lora::1> <lora:b:1:0.5>');
    assert.equal(r.tags.length, 0);
    assert.match(r.problems[0], /multiplier "lots" is not a number/);
    assert.match(r.problems[1], /has no name/);
    assert.match(r.problems[2], /only one multiplier is supported/);
  });

  it('--lora FILE[:MULT] on the command line', () => {
    const args = parseArgs(['--lora', 'a.safetensors', '--lora', 'b.safetensors:0.6', '--lora', 'C:\\l\\c.safetensors:-1', '--lora', 'C:\\l\\d.safetensors'], { values: ['lora'], flags: [] }, 'generate');
    assert.deepEqual(loraArgs(args), [
      { path: 'a.safetensors', multiplier: 1 },
      { path: 'b.safetensors', multiplier: 0.6 },
      { path: 'C:\\l\\c.safetensors', multiplier: -1 },
      { path: 'C:\\l\\d.safetensors', multiplier: 1 },
    ]);
  });
});

describe('GenerateParams.loras', () => {
  it('is checked at the protocol boundary: a list of at most 8, multipliers from -4 to 4', () => {
    const base = { jobId: 'j', model: '/m', prompt: 'p' };
    assert.deepEqual(validateGenerateParams({ ...base, loras: [{ path: 'a.safetensors' }], loraDirs: ['/l'] }).loras, [{ path: 'a.safetensors', multiplier: 1 }]);
    assert.throws(() => validateGenerateParams({ ...base, loras: [{ path: 'a', multiplier: 5 }] }), /loras\[0\]\.multiplier must be from -4 to 4, got 5/);
    assert.throws(() => validateGenerateParams({ ...base, loras: Array.from({ length: 9 }, () => ({ path: 'a', multiplier: 1 })) }), /at most 8 LoRAs/);
    assert.throws(() => validateGenerateParams({ ...base, loras: 'a.safetensors' }), /loras must be a list/);
    assert.throws(() => validateGenerateParams({ ...base, loraDirs: [1] }), /loraDirs must be a list of strings/);
  });
});

describe('withoutLoraTags', () => {
  it('leaves what the image shows: the text without its tags, spaces tidied', () => {
    assert.equal(withoutLoraTags('a heart <lora:line-art:0.8>, flat <LYCO:x> style'), 'a heart, flat style');
    assert.equal(withoutLoraTags('<lora:only>'), '');
  });
});
