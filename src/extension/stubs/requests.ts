// Turns a stub or an existing image into a GenerationRequest.

import * as vscode from 'vscode';
import { type PngFacts, hasGenerationParameters } from '../../core/galleryIndex';
import { settingsFromInfotext } from '../../core/generationSettings';
import { cleanPromptText } from '../../core/sanitize';
import type { ImageStub, MarkdownImage } from '../../core/stubs';
import type { GenerationRequest } from '../generation/generateAndInsert';
import { TrackedRange } from '../insert/trackedPosition';
import { toRange } from './documentStubs';
import type { ImageMetadataStore } from '../images/imageMetadata';

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
  const { alt: _alt, domain, parts: _parts, modelPrompt: _english, ...settings } = o;
  return {
    document: document.uri,
    target,
    mode,
    // The stub's prompt is already what the model reads (its `prompt:` when it has one).
    // Variations are about new seeds; a fixed seed would make four times the same start.
    settings: { ...settings, prompt: stub.prompt, seed: variations ? undefined : o.seed, batch: variations },
    alt: stub.alt,
    domain: domain ? { domain, source: 'directive' } : undefined,
  };
}

/**
 * Same parameters as the image (from its metadata), a new seed, replacing the link. The metadata
 * is untrusted: its values are brought within the limits, and the request carries a warning for
 * each change (see metadataRequest.ts).
 */
export function requestForImage(document: vscode.TextDocument, image: MarkdownImage, info: PngFacts, variations?: number): GenerationRequest | undefined {
  // A new seed: Regenerate and Variations are about another picture of the same.
  const { Seed: _seed, ...fields } = info.fields ?? {};
  const read = settingsFromInfotext({ ...info, fields }, image.alt);
  if (!read) return undefined;
  const { strength: _strength, ...settings } = read.settings;
  return {
    document: document.uri,
    target: new TrackedRange(document.uri, toRange(image.range)),
    mode: 'replace',
    settings: { ...settings, batch: variations },
    alt: cleanPromptText(image.alt).trim() || read.settings.prompt,
    domain: read.domain,
    fromImage: true,
    warnings: read.warnings,
  };
}

/** requestForImage for the image on that line, when Course Illustrator made it. */
export async function requestForImageAt(
  images: ImageMetadataStore,
  at: { document: vscode.TextDocument; line: number; index: number },
  variations?: number,
): Promise<GenerationRequest | undefined> {
  const found = await images.at(at.document, at.line, at.index);
  return found?.facts && hasGenerationParameters(found.facts) ? requestForImage(at.document, found.image, found.facts, variations) : undefined;
}
