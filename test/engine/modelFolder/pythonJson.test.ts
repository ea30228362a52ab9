import * as assert from 'assert';
import { parsePythonJson } from '../../../src/engine/modelFolder/pythonJson';

describe('configs written by Python', () => {
  it('reads Infinity, -Infinity and NaN as numbers, like Python does', () => {
    const v = parsePythonJson('{"lambda_min_clipped": -Infinity, "a": Infinity, "b": NaN, "c": [1, -Infinity]}') as Record<string, unknown>;
    assert.strictEqual(v.lambda_min_clipped, -Infinity);
    assert.strictEqual(v.a, Infinity);
    assert.ok(Number.isNaN(v.b));
    assert.deepStrictEqual(v.c, [1, -Infinity]);
  });
  it('leaves the words alone inside strings', () => {
    const v = parsePythonJson('{"note": "NaN and -Infinity \\" Infinity", "x": NaN}') as Record<string, unknown>;
    assert.strictEqual(v.note, 'NaN and -Infinity " Infinity');
  });
  it('still rejects broken JSON', () => {
    assert.throws(() => parsePythonJson('{"a": }'));
  });
});
