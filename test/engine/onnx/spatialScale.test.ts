import * as assert from 'node:assert/strict';
import { OnnxGraph } from '../../../src/engine/onnx/graph/onnxGraph';
import { spatialScales } from '../../../src/engine/onnx/graph/spatialScale';
import { buildCkptUnet } from '../../fixtures/onnx/checkpointNets';
import { GraphBuilder } from '../../fixtures/onnx/graph';
import { WeightRandom } from '../../fixtures/onnx/random';

/** The scale of each Conv node's input, by node name. */
function convInputScales(model: Uint8Array): Map<string, number | undefined> {
  const g = new OnnxGraph(model);
  const scales = spatialScales(g);
  return new Map(g.nodes.filter((n) => n.opType === 'Conv').map((n) => [n.name!, scales.get(n.input![0])]));
}

describe('spatial scales (how far below the input resolution each image tensor is)', () => {
  it('follows a UNet built as diffusers exports it: down by the strided convolution, up by Resize', () => {
    const s = convInputScales(buildCkptUnet({ hidden: 8, channels: 8, timestepType: 'int64' }).model);
    const expected: [string, number][] = [
      ['/conv_in/Conv', 0],
      ['/down_blocks.0/resnets.0/conv1/Conv', 0],
      ['/down_blocks.0/resnets.0/conv2/Conv', 0],
      ['/down_blocks.0/downsamplers.0/conv/Conv', 0],
      ['/down_blocks.1/resnets.0/conv1/Conv', 1],
      ['/mid_block/resnets.1/conv2/Conv', 1],
      // Concat of the mid block's output and a skip at the same level.
      ['/up_blocks.0/resnets.0/conv1/Conv', 1],
      ['/up_blocks.0/upsamplers.0/conv/Conv', 0],
      ['/up_blocks.1/resnets.1/conv1/Conv', 0],
      ['/conv_out/Conv', 0],
    ];
    for (const [name, scale] of expected) assert.equal(s.get(name), scale, name);
    // Every convolution's is known (here the attention blocks' tokens go back by Reshape to the
    // shape of the block's input; diffusers' export builds that shape from Gathers, which the
    // blocks' residual Add makes up for).
    assert.deepEqual([...s].filter(([, v]) => v === undefined), []);
  });

  it('follows a GroupNorm written as Reshape, InstanceNormalization and a Reshape back to the shape of its input', () => {
    const g = new GraphBuilder('norm');
    const rnd = new WeightRandom(1);
    const x = g.input('x', 'float32', ['batch', 8, 'height', 'width']);
    const down = g.op('Conv', [x, g.weight('w', rnd.normals(8 * 8 * 9, 0.1), [8, 8, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2] });
    const grouped = g.op('Reshape', [down, g.int64Const('groups', [0, 2, -1])]);
    const normed = g.op('InstanceNormalization', [grouped, g.floatConst('ones', [1, 1]), g.floatConst('zeros', [0, 0])]);
    const back = g.op('Reshape', [normed, g.op('Shape', [down])], {}, 'back');
    // A 2×2 pixel shuffle takes it back up; a Reshape to a constant shape loses track.
    g.op('DepthToSpace', [g.op('Conv', [back, g.weight('w4', rnd.normals(32 * 8, 0.1), [32, 8, 1, 1])])], { blocksize: 2 }, 'up');
    g.op('Reshape', [back, g.int64Const('flat', [0, -1])], {}, 'flat');
    g.output('up', 'float32', ['batch', 8, 'height', 'width']);
    g.output('flat', 'float32', ['batch', '?']);
    const scales = spatialScales(new OnnxGraph(g.build().model));
    assert.equal(scales.get('x'), 0);
    assert.equal(scales.get(down), 1);
    assert.equal(scales.get(grouped), undefined);
    assert.equal(scales.get('back'), 1);
    assert.equal(scales.get('up'), 0);
    assert.equal(scales.get('flat'), undefined);
  });
});
