// Turns a stub or an existing image into a GenerationRequest.

import * as vscode from 'vscode';
import { hasGenerationParameters } from '../../core/galleryIndex';
import type { PngInfoResult } from '../../core/protocol';
import type { ImageStub, MarkdownImage } from '../../core/stubs';
import type { GenerationRequest } from '../generation/generateAndInsert';
import { TrackedRange } from '../insert/trackedPosition';
import { toRange } from './documentStubs';
import type { ImageInfoCache } from './imageInfo';
import { valuesFromMetadata } from './metadataRequest';

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
    domain: o.domain ? { domain: o.domain, source: 'directive' } : undefined,
    fast: o.fast,
    variations,
  };
}

/**
 * Same parameters as the image (from its metadata), a new seed, replacing the link. The metadata
 * is untrusted: its values are brought within the limits, and the request carries a warning for
 * each change (see metadataRequest.ts).
 */
export function requestForImage(document: vscode.TextDocument, image: MarkdownImage, info: PngInfoResult, variations?: number): GenerationRequest | undefined {
  const v = valuesFromMetadata(info, image.alt);
  if (!v) return undefined;
  return {
    document: document.uri,
    target: new TrackedRange(document.uri, toRange(image.range)),
    mode: 'replace',
    prompt: v.prompt,
    alt: v.alt,
    negativePrompt: v.negativePrompt,
    steps: v.steps,
    guidance: v.guidance,
    width: v.width,
    height: v.height,
    scheduler: v.scheduler,
    template: v.template,
    domain: v.domain,
    templateApplied: true,
    variations,
    warnings: v.warnings,
  };
}

/** requestForImage for the image on that line, when Course Illustrator made it. */
export async function requestForImageAt(
  images: ImageInfoCache,
  at: { document: vscode.TextDocument; line: number; index: number },
  variations?: number,
): Promise<GenerationRequest | undefined> {
  const found = await images.at(at.document, at.line, at.index);
  return found?.info && hasGenerationParameters(found.info) ? requestForImage(at.document, found.image, found.info, variations) : undefined;
}
