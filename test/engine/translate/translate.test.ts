// Translating prompts with the project's tiny Marian model (test/fixtures/tinyMarian.ts) through
// the real @huggingface/transformers and onnxruntime-node: in process, over JSON-RPC, on the
// command line, and after a download of the catalogue entry from a hub on 127.0.0.1. Nothing
// comes from the network.

import * as assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ResponseError } from 'vscode-jsonrpc/node';
import { ErrorCodes } from '../../../src/core/protocol';
import { EngineRequests } from '../../../src/core/engineRequests';
import { checkReply } from '../../../src/core/rpc';
import { TRANSLATE_MAX_CHARS, TRANSLATION_MODEL_ID } from '../../../src/core/translateProtocol';
import { EngineError } from '../../../src/engine/errors';
import { catalogue } from '../../../src/engine/hub/catalogue';
import { Translator } from '../../../src/engine/translate/translator';
import { writeTinyMarian } from '../../fixtures/tinyMarian';
import { HubServer } from '../../support/hubServer';
import { EngineServer, runCli, startServer } from '../../support/engineProcess';

const PROMPT = '(植物细胞:1.3), <lora:细胞风格:0.8>, 心脏, highly detailed';
const ENGLISH = '(plant cell:1.3), <lora:细胞风格:0.8>, heart, highly detailed';

describe('engine translate (tiny Marian model, real transformers.js and onnxruntime)', function () {
  this.timeout(120000);
  let root: string;
  let model: string;

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'ci-translate-'));
    model = await writeTinyMarian(path.join(root, 'q8'));
  });
  after(() => fs.rm(root, { recursive: true, force: true }));

  describe('in process', () => {
    it('translates the Chinese runs and keeps weights, LoRA tags and English as written', async () => {
      const t = new Translator();
      try {
        const r = await t.translate({ model, text: PROMPT });
        assert.equal(r.text, ENGLISH);
        assert.equal(r.runs, 2);
        assert.equal(t.loaded, model);
      } finally {
        await t.dispose();
      }
      assert.equal(t.loaded, undefined);
    });

    it('answers a prompt without Chinese without loading a model', async () => {
      const t = new Translator();
      const r = await t.translate({ model: path.join(root, 'nothing-here'), text: 'a plant cell, (detailed:1.2)' });
      assert.deepEqual({ text: r.text, runs: r.runs }, { text: 'a plant cell, (detailed:1.2)', runs: 0 });
      assert.equal(t.loaded, undefined);
    });

    it('runs a folder with the fp32 files when there are no quantized ones', async () => {
      const fp32 = await writeTinyMarian(path.join(root, 'fp32'), { variant: 'fp32' });
      const t = new Translator();
      try {
        assert.equal((await t.translate({ model: fp32, text: '植物细胞' })).text, 'plant cell');
      } finally {
        await t.dispose();
      }
    });

    it('says how to get the model when the folder is not one', async () => {
      const empty = await fs.mkdtemp(path.join(root, 'empty-'));
      const err = await new Translator().translate({ model: empty, text: '植物细胞' }).then(
        () => assert.fail('expected an error'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof EngineError);
      assert.equal(err.kind, 'modelError');
      assert.match(err.message, /not a translation model folder/);
      assert.match(err.message, new RegExp(`models pull ${TRANSLATION_MODEL_ID}`));
    });

    it('releases the model after a quiet spell', async () => {
      const t = new Translator({ idleMs: 30 });
      await t.translate({ model, text: '心脏' });
      assert.equal(t.loaded, model);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(t.loaded, undefined);
    });
  });

  describe('over JSON-RPC (engine/translate)', () => {
    let server: EngineServer;
    before(async () => {
      server = await startServer();
      await server.connection.sendRequest(EngineRequests.initialize.method, { provider: 'cpu', threads: 1 });
    });
    after(() => server.close());

    it('answers with the English, which the reply validator accepts', async () => {
      const params = { model, text: PROMPT };
      const raw = await server.connection.sendRequest(EngineRequests.translate.method, params);
      const r = checkReply(EngineRequests.translate, raw, params);
      assert.equal(r.text, ENGLISH);
      assert.equal(r.runs, 2);
      // Warm: the second request reuses the loaded sessions.
      const again = checkReply(EngineRequests.translate, await server.connection.sendRequest(EngineRequests.translate.method, { model, text: '心脏' }), params);
      assert.equal(again.text, 'heart');
      // Its folder is open, as engine/status says (so "Remove Model…" stops the engine first).
      const status = checkReply(EngineRequests.status, await server.connection.sendRequest(EngineRequests.status.method, {}), {});
      assert.ok(status.loadedModels.includes(model), JSON.stringify(status.loadedModels));
    });

    it('refuses bad params and a missing model with the codes the extension maps', async () => {
      const tooLong = await server.connection.sendRequest(EngineRequests.translate.method, { model, text: '植'.repeat(TRANSLATE_MAX_CHARS + 1) }).catch((e: unknown) => e);
      assert.ok(tooLong instanceof ResponseError);
      assert.equal(tooLong.code, ErrorCodes.badInput);
      const missing = await server.connection.sendRequest(EngineRequests.translate.method, { model: path.join(root, 'missing'), text: '植物细胞' }).catch((e: unknown) => e);
      assert.ok(missing instanceof ResponseError);
      assert.equal(missing.code, ErrorCodes.modelError);
      assert.match(missing.message, /models pull opus-mt-zh-en-onnx/);
    });
  });

  describe('command line', () => {
    it('course-illustrator translate TEXT --model DIR prints the English as JSON', async () => {
      const r = await runCli(['translate', '植物细胞，心脏', '--model', model]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { text: string; runs: number; seconds: number };
      assert.equal(out.text, 'plant cell, heart');
      assert.equal(out.runs, 2);
    });

    it('exits 2 without text and 3 for a folder that is no model, naming the fix', async () => {
      const none = await runCli(['translate', '--model', model]);
      assert.equal(none.code, 2);
      assert.match(none.stderr, /translate needs the text/);
      const bad = await runCli(['translate', '植物细胞', '--model', root]);
      assert.equal(bad.code, 3, bad.stderr);
      assert.match(bad.stderr, /models pull opus-mt-zh-en-onnx/);
    });
  });

  describe('downloaded through the catalogue', () => {
    const entry = catalogue().find((e) => e.id === TRANSLATION_MODEL_ID);
    let hub: HubServer;
    let store: string;
    let repoDir: string;
    // A developer's proxy settings must not send the loopback hub elsewhere.
    const env = { HF_ENDPOINT: '', HF_TOKEN: '', HTTPS_PROXY: '', HTTP_PROXY: '', ALL_PROXY: '', https_proxy: '', http_proxy: '', all_proxy: '', NO_PROXY: '*' };

    before(async () => {
      assert.ok(entry, `the catalogue has ${TRANSLATION_MODEL_ID}`);
      repoDir = await writeTinyMarian(path.join(root, 'repo'));
      // What the real repo has besides: fp32 graphs and the SentencePiece files, never downloaded.
      await fs.writeFile(path.join(repoDir, 'onnx', 'encoder_model.onnx'), 'the fp32 encoder, 200 MB in the real repo');
      await fs.writeFile(path.join(repoDir, 'source.spm'), 'not needed');
      await fs.writeFile(path.join(repoDir, 'README.md'), '# opus-mt-zh-en');
      hub = await HubServer.start([{ repo: entry.repo, dir: repoDir, commit: entry.revision }]);
      store = await fs.mkdtemp(path.join(root, 'store-'));
    });
    after(() => hub?.close());

    it('is a pinned entry of kind translation that downloads only what transformers.js reads', () => {
      assert.equal(entry?.kind, 'translation');
      assert.match(entry?.revision ?? '', /^[0-9a-f]{40}$/);
      assert.deepEqual([...(entry?.require ?? [])].sort(), [
        'config.json',
        'generation_config.json',
        'onnx/decoder_model_merged_quantized.onnx',
        'onnx/encoder_model_quantized.onnx',
        'tokenizer.json',
        'tokenizer_config.json',
      ]);
    });

    it('models pull fetches and verifies it; translate then finds it in the store by itself, offline', async () => {
      const pull = await runCli(['models', 'pull', TRANSLATION_MODEL_ID, '--endpoint', hub.endpoint, '--store', store], { env });
      assert.equal(pull.code, 0, pull.stderr);
      const dir = path.join(store, TRANSLATION_MODEL_ID);
      const files = (await fs.readdir(dir, { recursive: true })).map((f) => f.split(path.sep).join('/')).filter((f) => !f.startsWith('.') && !['onnx'].includes(f)).sort();
      assert.deepEqual(files, [...(entry?.require ?? [])].sort());
      assert.equal(hub.served('onnx/encoder_model.onnx'), 0);
      assert.equal(hub.served('source.spm'), 0);
      await hub.close();
      // The hub is gone: translating reads only the store.
      const r = await runCli(['translate', PROMPT], { env: { ...env, COURSE_ILLUSTRATOR_MODELS: store } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { text: string }).text, ENGLISH);
    });
  });
});
