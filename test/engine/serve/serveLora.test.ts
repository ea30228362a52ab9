// LoRAs through the A1111 API: /sdapi/v1/loras lists the server's --lora-dir files, and
// `<lora:NAME:MULT>` in a prompt uses one, as an A1111 client writes it.

import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ServeServer, startHttpServer } from '../../../src/engine/serve/httpServer';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { WeightRandom } from '../../fixtures/onnx/random';
import { kohyaTensors, randomModule, writeSafetensors } from '../lora/loraFixtures';
import { call, pngText, txt2img } from './a1111Client';

describe('serve: LoRAs (tiny model with LoRA-targetable layers)', function () {
  this.timeout(120_000);
  let server: ServeServer;
  let dir: string;

  before(async () => {
    const model = await ensureFixture('tiny-lora');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-lora-'));
    const rnd = new WeightRandom(11);
    await writeSafetensors(path.join(dir, 'line-art.safetensors'), kohyaTensors({ 'down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_q': randomModule(rnd, 4, 16, 16, [], 4) }, 'lora_unet_'));
    fs.writeFileSync(path.join(dir, 'readme.txt'), 'not a LoRA');
    server = await startHttpServer({ model, host: '127.0.0.1', port: 0, maxQueue: 2, requestTimeoutMs: 60_000, threads: 1, lowMemory: false, log: () => undefined, loraDirs: [dir] });
  });

  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('lists the server\'s LoRAs without its folders, and uses one named in the prompt', async () => {
    const list = await call(server.url, 'GET', '/sdapi/v1/loras');
    assert.deepStrictEqual(list.json, [{ name: 'line-art', alias: 'line-art', path: 'line-art.safetensors', metadata: {} }]);
    const plain = await txt2img(server.url, { prompt: 'a heart', seed: 3, steps: 3, width: 64, height: 64 });
    const tagged = await txt2img(server.url, { prompt: 'a heart <lora:line-art:0.8>', seed: 3, steps: 3, width: 64, height: 64 });
    assert.strictEqual(tagged.status, 200, JSON.stringify(tagged.json));
    const text = pngText(Buffer.from(tagged.json.images[0], 'base64')).parameters;
    assert.match(text, /^a heart <lora:line-art:0.8>\n/, 'the tag stays in the prompt, as A1111 writes it');
    assert.match(text, /Lora hashes: "line-art: [0-9a-f]{12}"/);
    assert.notStrictEqual(tagged.json.images[0], plain.json.images[0], 'the LoRA changed the picture');
    const missing = await txt2img(server.url, { prompt: 'a heart <lora:nowhere:1>', seed: 3, steps: 3, width: 64, height: 64 });
    assert.ok(missing.status >= 400, `an unknown LoRA is refused (${missing.status})`);
    assert.ok(!JSON.stringify(missing.json).includes(dir), 'the answer does not show the server\'s folders');
  });
});
