import * as assert from 'node:assert/strict';
import { DEFAULT_HUB_ENDPOINT, hubEndpoint } from '../../../src/core/modelsProtocol';
import { hubTokenFromEnv, resolveEndpoint } from '../../../src/engine/hub/hub';

// One default endpoint and one token lookup for the CLI, the engine (RPC) and the extension.
describe('models: hub endpoint and token from settings and the environment', () => {
  it('picks the setting, else HF_ENDPOINT, else the Hugging Face hub, without a trailing slash', () => {
    assert.equal(DEFAULT_HUB_ENDPOINT, 'https://huggingface.co');
    assert.equal(hubEndpoint(undefined, undefined), 'https://huggingface.co');
    assert.equal(hubEndpoint('  ', ''), 'https://huggingface.co', 'blank means unset');
    assert.equal(hubEndpoint('', 'https://mirror.example/'), 'https://mirror.example');
    assert.equal(hubEndpoint(' https://own.example// ', 'https://mirror.example'), 'https://own.example');
    // The engine uses the same choice, then checks it.
    assert.equal(resolveEndpoint(undefined, {}), 'https://huggingface.co');
    assert.equal(resolveEndpoint('', { HF_ENDPOINT: 'https://mirror.example/' }), 'https://mirror.example');
    assert.throws(() => resolveEndpoint('ftp://x', {}), /must start with https:\/\//);
  });

  it('reads HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, for the CLI and the RPC handlers alike', () => {
    assert.equal(hubTokenFromEnv({ HF_TOKEN: 'hf_a', HUGGING_FACE_HUB_TOKEN: 'hf_b' }), 'hf_a');
    assert.equal(hubTokenFromEnv({ HUGGING_FACE_HUB_TOKEN: 'hf_b' }), 'hf_b');
    assert.equal(hubTokenFromEnv({ HF_TOKEN: '', HUGGING_FACE_HUB_TOKEN: 'hf_b' }), 'hf_b');
    assert.equal(hubTokenFromEnv({}), undefined);
  });
});
