import * as assert from 'node:assert/strict';
import { MAX_HEADER_BYTES, SafetensorsError, SafetensorsFile } from '../../../src/engine/lora/safetensors';
import { safetensorsBytes } from './loraFixtures';

function withHeader(header: unknown, data = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

describe('safetensors reader', () => {
  it('reads F32, F16 and BF16 tensors and the metadata', () => {
    const values = new Float32Array([1.5, -2, 0.25, 1024]);
    const bytes = safetensorsBytes({
      a: { shape: [2, 2], data: values },
      b: { dtype: 'F16', shape: [4], data: values },
      c: { dtype: 'BF16', shape: [4, 1], data: values },
    }, { ss_output_name: 'style' });
    const f = SafetensorsFile.parse('x.safetensors', bytes);
    assert.deepEqual(f.names, ['a', 'b', 'c']);
    assert.deepEqual(f.tensors.get('c')?.shape, [4, 1]);
    assert.equal(f.metadata.ss_output_name, 'style');
    for (const n of ['a', 'b', 'c']) assert.deepEqual([...f.floats(n)], [...values], n);
  });

  const refusals: [string, Buffer, RegExp][] = [
    ['a file shorter than its length field', Buffer.alloc(5), /only 5 bytes long/],
    ['a header size over the cap', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(BigInt(MAX_HEADER_BYTES + 1)); return b; })(), /header claims \d+ bytes \(at most/],
    ['a header longer than the file', (() => { const b = Buffer.alloc(16); b.writeBigUInt64LE(100n); return b; })(), /cut short/],
    ['a header that is not JSON', (() => { const b = Buffer.alloc(12); b.writeBigUInt64LE(4n); b.write('{{{{', 8); return b; })(), /not JSON/],
    ['offsets outside the data', withHeader({ w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, Buffer.alloc(4)), /lies outside the file/],
    ['a shape that does not fill its bytes', withHeader({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, Buffer.alloc(8)), /needs 12 bytes but has 8/],
    ['an unknown dtype', withHeader({ w: { dtype: 'F7', shape: [1], data_offsets: [0, 1] } }, Buffer.alloc(1)), /unknown dtype "F7"/],
    ['a negative dimension', withHeader({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /bad shape/],
    ['overlapping tensors', withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, Buffer.alloc(8)), /overlap/],
  ];
  for (const [what, bytes, message] of refusals) {
    it(`refuses ${what}, naming the file`, () => {
      assert.throws(() => SafetensorsFile.parse('/loras/bad.safetensors', bytes), (err: unknown) => {
        assert.ok(err instanceof SafetensorsError);
        assert.match(err.message, /^\/loras\/bad\.safetensors is not a valid \.safetensors file: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('refuses to convert integer tensors to LoRA weights', () => {
    const f = SafetensorsFile.parse('i.safetensors', withHeader({ w: { dtype: 'I32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4)));
    assert.throws(() => f.floats('w'), /tensor "w" is I32; LoRA weights must be F32, F16 or BF16/);
  });

  it('says when the file is missing', async () => {
    await assert.rejects(SafetensorsFile.read('/nonexistent/x.safetensors'), /Cannot read the LoRA \/nonexistent\/x\.safetensors: the file does not exist/);
  });
});
