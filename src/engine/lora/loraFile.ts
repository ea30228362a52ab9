// What a LoRA file holds, whatever wrote it: pairs of low-rank matrices (down: [rank, in] or
// [rank, in, kh, kw]; up: [out, rank] or [out, rank, 1, 1]) and an optional alpha, per module of
// the network they change. Key styles read here:
//   kohya (sd-scripts, A1111, civitai):  lora_unet_<module, dots as _>.lora_down.weight / .lora_up.weight / .alpha,
//                                        lora_te_<module>... for the text encoder (LoCon: 3x3 downs on convs)
//   PEFT / diffusers:                    unet.<dotted.module>.lora_A.weight / .lora_B.weight, text_encoder.<module>...,
//                                        also lora.down / lora.up, lora_linear_layer.down / .up, base_model.model.<module>,
//                                        and the attention-processor form ...attn1.processor.to_q_lora.down.weight
// Keys of any other kind (LoHa, LoKr, DoRA scales, SDXL's second text encoder, ...) are returned as
// warnings, never dropped in silence. Which graph node a module is, loraMapping.ts decides.

import { SafetensorsFile } from './safetensors';

export type LoraComponent = 'unet' | 'textEncoder';

export interface LoraModule {
  /** The key without its role suffix, as in the file (for messages). */
  key: string;
  style: 'kohya' | 'dotted';
  /** The network it is for; undefined when the key does not say (dotted keys without prefix). */
  component: LoraComponent | undefined;
  /** kohya: the module name with `_` for `.` (no prefix); dotted: the module path. */
  name: string;
  down: string;
  up: string;
  /** alpha / rank scales the product; absent: alpha = rank (PEFT's default in files without alpha). */
  alpha?: number;
  rank: number;
  downShape: number[];
  upShape: number[];
}

export interface LoraFile {
  file: string;
  format: 'kohya' | 'peft/diffusers' | 'mixed' | 'empty';
  modules: LoraModule[];
  /** Keys that are not LoRA down/up/alpha of a known form, or halves without their pair. */
  warnings: string[];
  tensors: SafetensorsFile;
}

// The attention-processor form keeps `_lora` in the module key (…processor.to_q_lora.down.weight).
const DOWN = /^(.+)\.(?:lora_down|lora_A(?:\.[\w-]+)?|lora\.down|lora_linear_layer\.down)\.weight$|^(.+_lora)\.down\.weight$/;
const UP = /^(.+)\.(?:lora_up|lora_B(?:\.[\w-]+)?|lora\.up|lora_linear_layer\.up)\.weight$|^(.+_lora)\.up\.weight$/;
const ALPHA = /^(.+)\.alpha$/;

export function readLoraFile(tensors: SafetensorsFile): LoraFile {
  const parts = new Map<string, { down?: string; up?: string; alpha?: string }>();
  const unknown: string[] = [];
  for (const name of tensors.names) {
    const d = DOWN.exec(name);
    const u = d ? null : UP.exec(name);
    const a = d || u ? null : ALPHA.exec(name);
    const m = d ?? u ?? a;
    if (!m) {
      unknown.push(name);
      continue;
    }
    const key = m[1] ?? m[2];
    const entry = parts.get(key) ?? {};
    if (d) entry.down = name;
    else if (u) entry.up = name;
    else entry.alpha = name;
    parts.set(key, entry);
  }
  const warnings: string[] = [];
  const modules: LoraModule[] = [];
  for (const [key, p] of parts) {
    if (!p.down || !p.up) {
      warnings.push(`${key}: ${p.down ? 'a down matrix without its up matrix' : p.up ? 'an up matrix without its down matrix' : 'an alpha without matrices'}`);
      continue;
    }
    const downShape = tensors.tensors.get(p.down)!.shape;
    const upShape = tensors.tensors.get(p.up)!.shape;
    const problem = shapeProblem(downShape, upShape);
    if (problem) {
      warnings.push(`${key}: ${problem}`);
      continue;
    }
    let alpha: number | undefined;
    if (p.alpha) {
      const values = tensors.floats(p.alpha);
      if (values.length !== 1 || !Number.isFinite(values[0])) {
        warnings.push(`${key}: alpha is not one finite number`);
        continue;
      }
      alpha = values[0];
    }
    const target = moduleTarget(key);
    if (!target) {
      unknown.push(key);
      continue;
    }
    modules.push({ key, ...target, down: p.down, up: p.up, alpha, rank: downShape[0], downShape, upShape });
  }
  if (unknown.length) warnings.unshift(...unknown.map((k) => `${k}: not a LoRA key this engine knows`));
  const styles = new Set(modules.map((m) => m.style));
  const format = styles.size === 0 ? 'empty' : styles.size === 2 ? 'mixed' : styles.has('kohya') ? 'kohya' : 'peft/diffusers';
  return { file: tensors.file, format, modules, warnings, tensors };
}

/** Down [r, in] or [r, in, kh, kw]; up [out, r] or [out, r, 1, 1]. */
function shapeProblem(down: number[], up: number[]): string | undefined {
  if (down.length !== 2 && down.length !== 4) return `down matrix of rank ${down.length} ([${down.join(', ')}])`;
  if (up.length !== 2 && !(up.length === 4 && up[2] === 1 && up[3] === 1)) return `up matrix of shape [${up.join(', ')}] (needs [out, rank] or [out, rank, 1, 1])`;
  if (down[0] === 0 || up[1] !== down[0]) return `down [${down.join(', ')}] and up [${up.join(', ')}] disagree on the rank`;
  return undefined;
}

/** The component and module a key (without role suffix) names, or undefined for keys of other networks. */
function moduleTarget(key: string): Pick<LoraModule, 'style' | 'component' | 'name'> | undefined {
  const kohya = /^lora_(unet|te1?|te2)_(.+)$/.exec(key);
  if (kohya) {
    // lora_te2_: SDXL's second text encoder, which SD 1.5 has not.
    if (kohya[1] === 'te2') return undefined;
    return { style: 'kohya', component: kohya[1] === 'unet' ? 'unet' : 'textEncoder', name: kohya[2] };
  }
  let name = key;
  let component: LoraComponent | undefined;
  if (name.startsWith('unet.')) {
    component = 'unet';
    name = name.slice(5);
  } else if (name.startsWith('text_encoder.')) {
    component = 'textEncoder';
    name = name.slice(13);
  } else if (name.startsWith('text_encoder_2.')) {
    return undefined;
  }
  if (name.startsWith('base_model.model.')) name = name.slice(17);
  // diffusers' old attention-processor LoRAs: attn1.processor.to_q_lora -> attn1.to_q, to_out_lora -> to_out.0.
  name = name.replace(/\.processor\.(to_q|to_k|to_v|to_out)_lora$/, (_, p: string) => `.${p === 'to_out' ? 'to_out.0' : p}`);
  if (!/^[\w.]+$/.test(name)) return undefined;
  return { style: 'dotted', component, name };
}
