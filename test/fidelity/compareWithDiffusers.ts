// Compares the engine with diffusers, case by case, on the project's tiny pipelines: the reference
// JSON comes from diffusers_reference.py (run where diffusers is installed). For every case the
// engine generates with the same prompt, negative prompt, seed, steps, guidance, size and
// scheduler, and for img2img and inpainting the same init image, mask (the PNGs the reference
// made and carries) and strength; the final latents and the 8-bit pixels are compared. Exit code
// 1 when a case differs by more than rounding (latents 1e-4, pixels 1 level).
//
//   npx tsx test/fidelity/compareWithDiffusers.ts reference.json

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { Engine } from '../../src/engine/engine';
import { readNpy } from '../../src/engine/image/npy';
import { ensureFixture } from '../fixtures/tinyPipeline';

interface ReferenceCase {
  /** Missing in references made before img2img: txt2img. */
  mode?: 'txt2img' | 'img2img' | 'inpaint';
  fixture: string;
  scheduler: string;
  seed: number;
  steps: number;
  guidance: number;
  prompt: string;
  negative: string;
  /** null (img2img, inpainting): the init image's own size, rounded down to a multiple of 8. */
  width: number | null;
  height: number | null;
  strength?: number;
  /** Names of Reference.inputs. */
  initImage?: string;
  mask?: string;
  latents: string;
  pixels: string;
}

interface Reference {
  versions: Record<string, string>;
  fixtures: Record<string, string>;
  /** The init images and masks the reference used: PNG files, base64. */
  inputs?: Record<string, string>;
  cases: ReferenceCase[];
}

export interface CaseResult {
  name: string;
  latentsMaxDiff: number;
  pixelsDiffering: number;
  pixelsMaxDiff: number;
  ok: boolean;
}

function floats(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
}

export async function compareWithDiffusers(ref: Reference, log: (line: string) => void = console.log): Promise<CaseResult[]> {
  const dirs: Record<string, string> = {};
  for (const [name, folder] of Object.entries(ref.fixtures)) {
    dirs[name] = await ensureFixture(name);
    if (path.basename(dirs[name]) !== folder) {
      throw new Error(`The reference was made with fixture ${folder}, this checkout builds ${path.basename(dirs[name])}: run diffusers_reference.py again on the current fixtures.`);
    }
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ci-parity-'));
  const engine = new Engine({ provider: 'cpu', threads: 1 });
  const results: CaseResult[] = [];
  const input = (name: string | undefined): string | undefined => {
    if (name === undefined) return undefined;
    const data = ref.inputs?.[name];
    if (data === undefined) throw new Error(`The reference has no input image "${name}".`);
    const file = path.join(tmp, 'inputs', path.basename(name));
    if (!fs.existsSync(file)) {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, Buffer.from(data, 'base64'));
    }
    return file;
  };
  try {
    for (const [i, c] of ref.cases.entries()) {
      const mode = c.mode ?? 'txt2img';
      const size = c.width === null || c.height === null ? 'own size' : `${c.width}x${c.height}`;
      const name = `${mode} ${c.fixture} ${c.scheduler} seed ${c.seed} ${c.steps} steps cfg ${c.guidance} ${size}` +
        (mode === 'txt2img' ? '' : ` strength ${c.strength}`);
      const latentsFile = path.join(tmp, `${i}.npy`);
      const r = await engine.generate({
        model: dirs[c.fixture], prompt: c.prompt, negativePrompt: c.negative, seed: c.seed, steps: c.steps, guidance: c.guidance,
        width: c.width ?? undefined, height: c.height ?? undefined, scheduler: c.scheduler, outFile: path.join(tmp, `${i}.png`), saveLatents: latentsFile,
        ...(mode === 'txt2img' ? {} : { initImage: input(c.initImage), strength: c.strength, mask: mode === 'inpaint' ? input(c.mask) : undefined }),
      });
      const ours = (await readNpy(latentsFile)).data;
      const theirs = floats(c.latents);
      let latentsMaxDiff = ours.length === theirs.length ? 0 : Infinity;
      for (let k = 0; k < Math.min(ours.length, theirs.length); k++) latentsMaxDiff = Math.max(latentsMaxDiff, Math.abs(ours[k] - theirs[k]));
      const px = await sharp(r.images[0].path).removeAlpha().raw().toBuffer();
      const ref8 = Buffer.from(c.pixels, 'base64');
      let pixelsDiffering = px.length === ref8.length ? 0 : Infinity;
      let pixelsMaxDiff = 0;
      for (let k = 0; k < Math.min(px.length, ref8.length); k++) {
        const d = Math.abs(px[k] - ref8[k]);
        if (d) pixelsDiffering++;
        pixelsMaxDiff = Math.max(pixelsMaxDiff, d);
      }
      const ok = latentsMaxDiff <= 1e-4 && pixelsMaxDiff <= 1;
      results.push({ name, latentsMaxDiff, pixelsDiffering, pixelsMaxDiff, ok });
      log(`${ok ? 'ok  ' : 'DIFF'} ${name}: latents max |diff| ${latentsMaxDiff.toExponential(2)}, ${pixelsDiffering} of ${ref8.length} pixel values differ (max ${pixelsMaxDiff})`);
    }
  } finally {
    await engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return results;
}

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx test/fidelity/compareWithDiffusers.ts REFERENCE.json (made by diffusers_reference.py)');
    process.exit(2);
  }
  const ref = JSON.parse(fs.readFileSync(file, 'utf8')) as Reference;
  console.log(`reference: ${JSON.stringify(ref.versions)}`);
  compareWithDiffusers(ref).then(
    (rs) => {
      const bad = rs.filter((r) => !r.ok).length;
      console.log(`${rs.length - bad} of ${rs.length} cases equal to diffusers within rounding`);
      process.exit(bad ? 1 : 0);
    },
    (e) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(2);
    },
  );
}
