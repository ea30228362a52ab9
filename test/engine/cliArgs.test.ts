import * as assert from 'node:assert/strict';
import { validateEngineOptions } from '../../src/core/protocol';
import { parseArgs, unetWeightsFromFlags } from '../../src/engine/cliArgs';
import { runModelsCommand } from '../../src/engine/hub/cli';
import { PassThrough } from 'node:stream';

// One parser for every CLI command (generate, tokenize, info, bench, models).
describe('CLI argument parser', () => {
  it('--int8 (which includes the compact MatMul weights) over --compact, else the full weights', () => {
    assert.equal(unetWeightsFromFlags(new Set(['int8', 'compact'])), 'int8');
    assert.equal(unetWeightsFromFlags(new Set(['compact'])), 'compact');
    assert.equal(unetWeightsFromFlags(new Set(['low-memory'])), undefined);
  });

  it('the engine options say which UNet weights exist', () => {
    assert.equal(validateEngineOptions({ unetWeights: 'int8' }).unetWeights, 'int8');
    assert.throws(() => validateEngineOptions({ unetWeights: 'int4' }), /unetWeights must be one of full, compact, int8, got "int4"/);
  });

  const spec = { values: ['model', 'include'], flags: ['overwrite'] };

  it('reads --name value, --name=value, flags and positionals; a later value wins, every one is kept', () => {
    const a = parseArgs(['--model', 'a', 'text', '--include=x/*', '--overwrite', '--include', 'y', '--model=b', '-'], spec, 'test');
    assert.equal(a.values.get('model'), 'b');
    assert.deepEqual(a.lists.get('include'), ['x/*', 'y']);
    assert.ok(a.flags.has('overwrite'));
    assert.deepEqual(a.positionals, ['text', '-']);
    assert.equal(parseArgs(['--model='], spec, 'test').values.get('model'), '', 'an empty value is a value');
  });

  it('refuses unknown options, short ones too, listing the known ones; -- ends the options', () => {
    assert.throws(() => parseArgs(['--modle', 'a'], spec, 'test'), /: Unknown option --modle for "test"\. Known options: --model, --include, --overwrite\.$/);
    assert.throws(() => parseArgs(['-m', 'a'], spec, 'test'), /Unknown option -m for "test"/);
    assert.deepEqual(parseArgs(['--', '-m', '--model'], spec, 'test').positionals, ['-m', '--model']);
    assert.throws(() => parseArgs(['--overwrite=yes'], spec, 'test'), /--overwrite is a flag and takes no value/);
    assert.throws(() => parseArgs(['--model'], spec, 'test'), /--model needs a value/);
  });

  it('the models commands keep their checks: no empty values, --parallel 1 to 8, the usage after a mistake', async () => {
    const run = async (args: string[]) => {
      const out = new PassThrough();
      const err = new PassThrough();
      let stderr = '';
      err.on('data', (c: Buffer) => (stderr += c.toString()));
      out.resume();
      const code = await runModelsCommand(args, { stdout: out, stderr: err });
      return { code, stderr };
    };
    for (const [args, message] of [
      [['list', '--store='], /--store needs a value\.\n\nusage: course-illustrator models/],
      [['pull', 'x', '--include', 'a', '--include='], /--include needs a value/],
      [['pull', 'x', '--parallel', '9'], /--parallel must be a whole number from 1 to 8\./],
      [['verify', '-x'], /Unknown option -x for "models verify"\. Known options: --store, .*\n\nusage:/],
    ] as const) {
      const r = await run([...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
    }
  });
});
