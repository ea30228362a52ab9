import assert from 'node:assert/strict';
import { sizeProblem, validateFromGallery, validateFromPanel, validatePanelSettings } from '../../src/core/webviewMessages';

const good = {
  prompt: 'a cat', negativePrompt: '', width: 768, height: 512, steps: 20, guidance: 7.5,
  scheduler: 'euler-a', seed: 42, seedLocked: true, batch: 2,
};

describe('webviewMessages', () => {
  it('accepts well-formed panel messages', () => {
    assert.deepEqual(validateFromPanel({ type: 'generate', settings: good }), { type: 'generate', settings: good });
    assert.deepEqual(validateFromPanel({ type: 'tokenize', field: 'prompt', requestId: 3, text: 'a' }),
      { type: 'tokenize', field: 'prompt', requestId: 3, text: 'a' });
    assert.deepEqual(validateFromPanel({ type: 'imageAction', action: 'insert', imageId: 'img-1' }),
      { type: 'imageAction', action: 'insert', imageId: 'img-1' });
    assert.deepEqual(validateFromPanel({ type: 'cancel' }), { type: 'cancel', jobId: undefined });
    assert.deepEqual(validateFromPanel({ type: 'choice', requestId: 2, imageId: 'var-1' }), { type: 'choice', requestId: 2, imageId: 'var-1' });
    assert.deepEqual(validateFromPanel({ type: 'choice', requestId: 2 }), { type: 'choice', requestId: 2, imageId: undefined });
    assert.throws(() => validateFromPanel({ type: 'choice', requestId: 2, imageId: '/tmp/x.png' }), /id handed out/);
  });

  it('accepts a known template, treats an empty one as none, and names the known ones for an unknown one', () => {
    assert.equal(validatePanelSettings({ ...good, template: 'education-primary' }).template, 'education-primary');
    assert.equal('template' in validatePanelSettings({ ...good, template: '' }), false);
    assert.throws(() => validatePanelSettings({ ...good, template: 'medical-xray-vision' }), /"template" must be empty or one of education-primary, .*medical-anatomy/);
    assert.throws(() => validatePanelSettings({ ...good, template: 7 }), /template/);
  });

  it('rejects sizes that are not multiples of 8, and says which size fits', () => {
    assert.throws(() => validatePanelSettings({ ...good, width: 500 }), /"width" must be a multiple of 8 \(try 504\)/);
    assert.throws(() => validatePanelSettings({ ...good, height: 4096 }), /height/);
    assert.equal(sizeProblem(512), undefined);
    assert.match(sizeProblem(513.5) ?? '', /whole/);
  });

  it('rejects unknown types, actions, schedulers and path-like ids', () => {
    assert.throws(() => validateFromPanel({ type: 'writeFile', path: '/etc/passwd' }), /unknown panel message type/);
    assert.throws(() => validateFromPanel({ type: 'imageAction', action: 'rm', imageId: 'a' }), /action/);
    assert.throws(() => validateFromPanel({ type: 'imageAction', action: 'saveAs', imageId: '../../x.png' }), /id handed out/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: { ...good, scheduler: 'magic' } }), /scheduler/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: { ...good, prompt: '  ' } }), /prompt/);
    assert.throws(() => validateFromPanel({ type: 'generate', settings: { ...good, steps: 0 } }), /steps/);
    assert.throws(() => validateFromPanel(null), /object/);
  });

  it('validates gallery messages and bounds their sizes', () => {
    assert.deepEqual(validateFromGallery({ type: 'query', requestId: 1, query: 'cat', offset: 0, limit: 60 }),
      { type: 'query', requestId: 1, query: 'cat', offset: 0, limit: 60 });
    assert.throws(() => validateFromGallery({ type: 'query', limit: 100000 }), /limit/);
    assert.throws(() => validateFromGallery({ type: 'thumbs', ids: new Array(101).fill('a') }), /at most/);
    assert.throws(() => validateFromGallery({ type: 'thumbs', ids: ['/tmp/x'] }), /ids\[0\]/);
    assert.throws(() => validateFromGallery({ type: 'action', action: 'delete', id: 'C:\\x' }), /id handed out/);
  });
});
