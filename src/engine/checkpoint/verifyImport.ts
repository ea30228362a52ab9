// The check an imported model gets before it is installed: every component loads in
// onnxruntime and gives finite outputs of the expected shapes on small inputs (the text
// encoder on a short prompt, one UNet step on an 8x8 latent with those text states, the VAE
// both ways), one session at a time so memory stays at one component's weights.

import * as ort from 'onnxruntime-node';
import type { ModelFolder } from '../modelFolder/modelFolder';
import { ModelError } from '../hub/errors';
import { ModelSession } from '../onnx/session';

/** "a photo of a cat" as CLIP token ids, padded with the end token to 77. */
const PROMPT_IDS = [49406, 320, 1125, 539, 320, 2368, 49407];
const LATENT = 8;

function floatsOf(t: ort.Tensor): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    // Values only checked for finiteness: an Inf or NaN half has all exponent bits set.
    const u = t.data as Uint16Array;
    return Float32Array.from(u, (h) => ((h & 0x7c00) === 0x7c00 ? NaN : 0));
  }
  throw new Error(`unexpected output type ${t.type}`);
}

function tensor(type: string, values: number[] | Float32Array, dims: number[]): ort.Tensor {
  if (type === 'int64') return new ort.Tensor('int64', BigInt64Array.from(Array.from(values, (v) => BigInt(Math.round(v)))), dims);
  if (type === 'int32') return new ort.Tensor('int32', Int32Array.from(values), dims);
  if (type === 'float16') {
    // Only zeros and small test values go in here; an exact conversion is not needed for a smoke test.
    return new ort.Tensor('float16', Uint16Array.from(values, () => 0), dims);
  }
  return new ort.Tensor('float32', Float32Array.from(values), dims);
}

function noise(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(i * 12.9898) * 0.8;
  return out;
}

async function runOne(label: string, file: string, feeds: (s: ModelSession) => Record<string, ort.Tensor>, expect: (dims: readonly number[]) => string | undefined): Promise<ort.Tensor> {
  let session: ModelSession | undefined;
  try {
    session = await ModelSession.create(file, { provider: 'cpu', threads: 0, label, rewrite: false });
    const out = await session.run(feeds(session));
    const first = out[session.outputs[0].name];
    const bad = expect(first.dims);
    if (bad) throw new Error(`its output is [${first.dims.join(', ')}], expected ${bad}`);
    for (const [name, t] of Object.entries(out)) {
      if (t.type !== 'float32' && t.type !== 'float16') continue;
      if (floatsOf(t).some((v) => !Number.isFinite(v))) throw new Error(`its output "${name}" has NaN or infinite values`);
    }
    return first;
  } catch (err) {
    throw new ModelError('badInput', `The imported ${label} does not run correctly (${(err as Error).message}); nothing was installed. Is the checkpoint an SD 1.x model, and the base model intact (models verify)?`);
  } finally {
    await session?.dispose();
  }
}

/** Runs every component of the staged model; returns what was checked, one line each. */
export async function verifyImportedModel(folder: ModelFolder, signal?: AbortSignal): Promise<string[]> {
  const done: string[] = [];
  const stop = () => {
    if (signal?.aborted) throw new ModelError('cancelled', 'Import cancelled; nothing was installed.');
  };
  const ids = [...PROMPT_IDS, ...Array<number>(77 - PROMPT_IDS.length).fill(49407)];
  const states = await runOne('text encoder', folder.textEncoder, (s) => ({ [s.inputs[0].name]: tensor(s.inputs[0].type, ids, [1, 77]) }), (d) =>
    d.length === 3 && d[0] === 1 && d[1] === 77 ? undefined : '[1, 77, width]');
  done.push(`text encoder: [${states.dims.join(', ')}] states for a 77-token prompt`);
  stop();
  const unetOut = await runOne('UNet', folder.unet, (s) => {
    const feeds: Record<string, ort.Tensor> = {};
    for (const io of s.inputs) {
      if (io.name === 'encoder_hidden_states') feeds[io.name] = states.type === io.type ? states : tensor(io.type, floatsOf(states), [...states.dims]);
      else if (io.name === 'timestep') feeds[io.name] = tensor(io.type, [500], io.dims.length === 0 ? [] : [1]);
      else {
        const channels = typeof io.dims[1] === 'number' ? io.dims[1] : 4;
        feeds[io.name] = tensor(io.type, noise(channels * LATENT * LATENT), [1, channels, LATENT, LATENT]);
      }
    }
    return feeds;
  }, (d) => (d.join('x') === `1x4x${LATENT}x${LATENT}` ? undefined : `[1, 4, ${LATENT}, ${LATENT}]`));
  done.push(`UNet: one step on a [1, 4, ${LATENT}, ${LATENT}] latent -> [${unetOut.dims.join(', ')}]`);
  stop();
  const size = LATENT * folder.vaeScaleFactor;
  const image = await runOne('VAE decoder', folder.vaeDecoder, (s) => ({ [s.inputs[0].name]: tensor(s.inputs[0].type, noise(4 * LATENT * LATENT), [1, 4, LATENT, LATENT]) }), (d) =>
    d.join('x') === `1x3x${size}x${size}` ? undefined : `[1, 3, ${size}, ${size}]`);
  done.push(`VAE decoder: [1, 4, ${LATENT}, ${LATENT}] -> [${image.dims.join(', ')}]`);
  if (folder.vaeEncoder) {
    stop();
    const lat = await runOne('VAE encoder', folder.vaeEncoder, (s) => ({ [s.inputs[0].name]: tensor(s.inputs[0].type, noise(3 * size * size), [1, 3, size, size]) }), (d) =>
      d.length === 4 && d[0] === 1 && d[2] === LATENT && d[3] === LATENT ? undefined : `[1, 4 or 8, ${LATENT}, ${LATENT}]`);
    done.push(`VAE encoder: [1, 3, ${size}, ${size}] -> [${lat.dims.join(', ')}]`);
  }
  return done;
}
