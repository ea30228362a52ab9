// Compares the engine with diffusers, case by case, on the project's tiny pipelines: the reference
// JSON comes from diffusers_reference.py (run where diffusers is installed). For every case the
// engine generates with the same prompt, negative prompt, seed, steps, guidance, size and
// scheduler; the final latents and the 8-bit pixels are compared. Exit code 1 when a case differs
// by more than rounding (latents 1e-4, pixels 1 level).
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
  fixture: 'tiny-a' | 'tiny-b';
  scheduler: string;
  seed: number;
  steps: number;
  guidance: number;
  prompt: string;
  negative: string;
  width: number;
  height: number;
  latents: string;
  pixels: string;
}

interface Reference {
  versions: Record<string, string>;
  fixtures: Record<string, string>;
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
  try {
    for (const [i, c] of ref.cases.entries()) {
      const name = `${c.fixture} ${c.scheduler} seed ${c.seed} ${c.steps} steps cfg ${c.guidance} ${c.width}x${c.height}`;
      const latentsFile = path.join(tmp, `${i}.npy`);
      const r = await engine.generate({
        model: dirs[c.fixture], prompt: c.prompt, negativePrompt: c.negative, seed: c.seed, steps: c.steps, guidance: c.guidance,
        width: c.width, height: c.height, scheduler: c.scheduler, outFile: path.join(tmp, `${i}.png`), saveLatents: latentsFile,
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
