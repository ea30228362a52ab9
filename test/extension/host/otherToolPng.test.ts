// A picture made by another tool (AUTOMATIC1111, Forge, ComfyUI with A1111 metadata) in the course:
// its parameters are shown and it can be made again, like one of ours.

import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import * as zlib from 'zlib';
import { PNG_SIGNATURE, encodeChunk, makeTextChunk } from '../../../src/engine/image/pngChunks';
import { freshMarkdown, waitFor, workspaceDir } from './helpers';

const INFOTEXT = 'a castle on a hill, watercolour\nNegative prompt: blurry\nSteps: 3, Sampler: Euler a, Schedule type: Automatic, CFG scale: 7, Seed: 1234, Size: 64x64, Model hash: abcdef1234, Model: v1-5-pruned-emaonly, Version: v1.10.1';

function a1111Png(): Buffer {
  const w = 8;
  const h = 8;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const raw = Buffer.alloc(h * (1 + w * 3), 200);
  for (let y = 0; y < h; y++) raw[y * (1 + w * 3)] = 0; // filter: none
  return Buffer.concat([
    PNG_SIGNATURE, encodeChunk('IHDR', ihdr), makeTextChunk({ keyword: 'parameters', text: INFOTEXT }),
    encodeChunk('IDAT', zlib.deflateSync(raw)), encodeChunk('IEND', Buffer.alloc(0)),
  ]);
}

describe('another tool\'s PNG with A1111 parameters', () => {
  it('gets Regenerate, Variations and Show parameters above its link, and shows its parameters', async () => {
    fs.mkdirSync(path.join(workspaceDir(), 'course', 'images'), { recursive: true });
    fs.writeFileSync(path.join(workspaceDir(), 'course', 'images', 'castle.png'), a1111Png());
    const editor = await freshMarkdown('course/castle.md', '![a castle](images/castle.png)\n');
    const titles = await waitFor('the image lenses', async () => {
      const t = ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 100)) ?? []).map((l) => l.command?.title ?? '');
      return t.some((x) => x.includes('Show parameters')) ? t : undefined;
    });
    assert.ok(titles.some((t) => t.includes('Regenerate')), titles.join(', '));
    const shown = await vscode.commands.executeCommand<string>('courseIllustrator.showParameters', editor.document.uri, 0);
    assert.strictEqual(shown, INFOTEXT);
  });
});
