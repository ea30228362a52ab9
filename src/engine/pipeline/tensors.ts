// Building ORT tensors of the element type a session declares, and reading them back as float32.
// The dtypes come from the session's metadata (some exports take int32 ids, others int64;
// float32 or int64 timesteps; fp16 UNets), never from assumptions.

import * as ort from 'onnxruntime-node';
import { float16ToFloat32, float32ToFloat16 } from '../onnx/float16';

export type ElementType = string;

export function intTensor(type: ElementType, values: number[], dims: number[]): ort.Tensor {
  switch (type) {
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(Math.trunc(v))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values, (v) => Math.trunc(v)), dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToFloat16(Float32Array.from(values)), dims);
    default:
      throw new Error(`unsupported element type ${type} for an integer input`);
  }
}

export function floatTensor(type: ElementType, data: Float32Array, dims: number[]): ort.Tensor {
  switch (type) {
    case 'float32':
      return new ort.Tensor('float32', data, dims);
    case 'float16':
      return new ort.Tensor('float16', float32ToFloat16(data), dims);
    case 'int64':
      // Integer timesteps: numpy's astype(int64) truncates, as diffusers' ONNX pipeline does.
      return new ort.Tensor('int64', BigInt64Array.from(data, (v) => BigInt(Math.trunc(v))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(data, (v) => Math.trunc(v)), dims);
    default:
      throw new Error(`unsupported element type ${type} for a float input`);
  }
}

export function toFloat32(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') return float16ToFloat32(t.data as Uint16Array);
  throw new Error(`expected a float tensor, got ${t.type} with dims [${t.dims.join(', ')}]`);
}

/** Concrete dims for an input whose declared dims may be symbolic. */
export function fixedDim(dims: readonly (number | string)[] | undefined, index: number): number | undefined {
  const d = dims?.[index];
  return typeof d === 'number' && d > 0 ? d : undefined;
}
