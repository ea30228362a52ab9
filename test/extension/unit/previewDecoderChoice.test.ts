import assert from 'node:assert/strict';
import type { InstalledModel } from '../../../src/core/modelsProtocol';
import { choosePreviewDecoder } from '../../../src/extension/models/previewDecoderChoice';

const model = (id: string, kind: InstalledModel['kind']): InstalledModel => ({
  id, path: `/store/${id}`, title: id, repo: `x/${id}`, revision: 'main', commit: 'c'.repeat(40), kind, bytes: 1, files: 1, installedAt: '2026-01-01T00:00:00Z',
});

describe('which decoder draws the live previews', () => {
  const installed = [model('sd15-onnx', 'pipeline'), model('taesd-onnx', 'vae')];

  it('uses the downloaded TAESD, never a pipeline', () => {
    assert.equal(choosePreviewDecoder({ livePreview: 'auto', previewDecoderPath: '' }, installed), '/store/taesd-onnx');
    assert.equal(choosePreviewDecoder({ livePreview: 'auto', previewDecoderPath: '' }, [model('sd15-onnx', 'pipeline')]), undefined);
  });

  it('prefers the user\'s own folder, with ~ expanded', () => {
    assert.equal(choosePreviewDecoder({ livePreview: 'auto', previewDecoderPath: ' ~/models/taesd ' }, installed, '/home/ann'), '/home/ann/models/taesd');
  });

  it('keeps to the approximation when asked', () => {
    assert.equal(choosePreviewDecoder({ livePreview: 'approximate', previewDecoderPath: '/mine' }, installed), undefined);
  });
});
