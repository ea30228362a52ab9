// Turns a stub or an existing image into a GenerationRequest.

import * as vscode from 'vscode';
import type { PngInfoResult } from '../../core/protocol';
import { resolveSchedulerName } from '../../core/schedulerNames';
import type { ImageStub, MarkdownImage } from '../../core/stubs';
import type { GenerationRequest } from '../generation/generateAndInsert';
import { TrackedRange } from '../insert/trackedPosition';
import { toRange } from './documentStubs';
import type { ImageInfoCache } from './imageInfo';

export function requestForStub(document: vscode.TextDocument, stub: ImageStub, variations?: number): GenerationRequest {
  const o = stub.options;
  let target: TrackedRange;
  let mode: GenerationRequest['mode'];
  if (stub.kind === 'empty-link') {
    target = new TrackedRange(document.uri, toRange(stub.range));
    mode = 'replace';
  } else if (stub.image) {
    target = new TrackedRange(document.uri, toRange(stub.image.range));
    mode = 'replace';
  } else {
    target = new TrackedRange(document.uri, toRange(stub.range));
    mode = 'lineAfter';
  }
  return {
    document: document.uri,
    target,
    mode,
    prompt: stub.prompt,
    alt: stub.alt,
    negativePrompt: o.negative,
    // Variations are about new seeds; a fixed seed would make four times the same start.
    seed: variations ? undefined : o.seed,
    steps: o.steps,
    guidance: o.guidance,
    width: o.width,
    height: o.height,
    scheduler: o.scheduler && o.scheduler.toLowerCase() !== 'default' ? o.scheduler : undefined,
    template: o.template,
    variations,
  };
}

/** Same parameters as the image (from its metadata), a new seed, replacing the link. */
export function requestForImage(document: vscode.TextDocument, image: MarkdownImage, info: PngInfoResult, variations?: number): GenerationRequest | undefined {
  const f = info.fields ?? {};
  const prompt = info.prompt ?? image.alt;
  if (!prompt) return undefined;
  const size = /^(\d+)x(\d+)$/.exec(f['Size'] ?? '');
  const num = (k: string): number | undefined => (f[k] !== undefined && Number.isFinite(Number(f[k])) ? Number(f[k]) : undefined);
  const sampler = f['Sampler'];
  const scheduler = sampler ? (resolveSchedulerName(`${sampler} ${f['Schedule type'] ?? ''}`.trim()) ?? resolveSchedulerName(sampler)) : undefined;
  return {
    document: document.uri,
    target: new TrackedRange(document.uri, toRange(image.range)),
    mode: 'replace',
    prompt,
    alt: image.alt || prompt,
    negativePrompt: info.negativePrompt,
    steps: num('Steps'),
    guidance: num('CFG scale'),
    width: size ? Number(size[1]) : info.width || undefined,
    height: size ? Number(size[2]) : info.height || undefined,
    scheduler,
    template: f['Template'],
    templateApplied: true,
    variations,
  };
}

/** requestForImage for the image on that line, when Course Illustrator made it. */
export async function requestForImageAt(
  images: ImageInfoCache,
  at: { document: vscode.TextDocument; line: number; index: number },
  variations?: number,
): Promise<GenerationRequest | undefined> {
  const found = await images.at(at.document, at.line, at.index);
  return found?.info?.madeByCourseIllustrator ? requestForImage(at.document, found.image, found.info, variations) : undefined;
}
