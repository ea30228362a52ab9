import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { externalDataRefs } from '../../../src/engine/modelFolder/externalData';
import { ensureFixture } from '../../fixtures/tinyPipeline';

describe('externalDataRefs', () => {
  it('finds the weight file a graph refers to and the bytes it needs', async () => {
    for (const [name, file] of [['tiny-a', 'weights.pb'], ['tiny-b', 'model.onnx_data']]) {
      const dir = await ensureFixture(name);
      const refs = externalDataRefs(readFileSync(path.join(dir, 'unet', 'model.onnx')));
      const size = readFileSync(path.join(dir, 'unet', file)).length;
      assert.deepEqual(refs, [{ location: file, bytesNeeded: size }]);
    }
  });

  it('finds nothing in a self-contained graph', async () => {
    const dir = await ensureFixture('tiny-a');
    assert.deepEqual(externalDataRefs(readFileSync(path.join(dir, 'text_encoder', 'model.onnx'))), []);
  });
});
