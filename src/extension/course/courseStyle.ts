// A course's look, from `.course-illustrator/course.json`, applied to every stub of an
// "Illustrate All Stubs" run so a course's images look alike:
//
//   { "style": "flat textbook illustration", "negative": "photo, text", "size": "768x512",
//     "seedBase": 1000, "fast": true }
//
// `style` is added to every prompt; the others are defaults a stub's own options override
// (`seedBase`: the stub's place in the run is added, so each stub keeps its seed on a rerun).
// Pure: no vscode; the file is checked here and every problem is said with how to fix it.

import * as l10n from '@vscode/l10n';
import { NEGATIVE_PROMPT, PROMPT, SEED, lengthProblem, seedProblem, sizeProblem } from '../../core/limits';
import { cleanPromptText } from '../../core/sanitize';
import type { GenerationSettings } from '../../core/generationSettings';

export const COURSE_FILE = '.course-illustrator/course.json';

export interface CourseStyle {
  style?: string;
  negative?: string;
  width?: number;
  height?: number;
  seedBase?: number;
  fast?: boolean;
}

const KEYS = ['style', 'negative', 'size', 'seedBase', 'fast'];

/** What a course style changes in a job's settings. */
export type StyledFields = Pick<GenerationSettings, 'style' | 'negativePrompt' | 'width' | 'height' | 'seed' | 'fast'>;

/** The file's text checked: a style, or the problems (each a sentence naming the key). */
export function parseCourseStyle(text: string): { style: CourseStyle; problems: string[] } {
  const problems: string[] = [];
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { style: {}, problems: [l10n.t('It is not valid JSON ({0}).', e instanceof Error ? e.message : String(e))] };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { style: {}, problems: [l10n.t('It must be one JSON object, like {0}.', '{ "style": "flat textbook illustration" }')] };
  const o = raw as Record<string, unknown>;
  const style: CourseStyle = {};
  for (const key of Object.keys(o)) if (!KEYS.includes(key)) problems.push(l10n.t('Unknown key "{0}": use {1}.', key, KEYS.join(', ')));
  const words = (key: 'style' | 'negative', max: number): string | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') {
      problems.push(l10n.t('"{0}" must be text in quotes.', key));
      return undefined;
    }
    const clean = cleanPromptText(v).trim();
    const long = lengthProblem(clean, max);
    if (long) problems.push(`"${key}" ${long}.`);
    return long ? undefined : clean || undefined;
  };
  style.style = words('style', PROMPT.maxWithTemplate - PROMPT.maxChars);
  style.negative = words('negative', NEGATIVE_PROMPT.maxChars);
  if (o.size !== undefined) {
    const m = typeof o.size === 'string' ? /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(o.size) : null;
    const bad = m ? (sizeProblem(Number(m[1])) ?? sizeProblem(Number(m[2]))) : undefined;
    if (!m) problems.push(l10n.t('"size" must be width x height in quotes, like "768x512".'));
    else if (bad) problems.push(l10n.t('"size": each side {0}.', bad));
    else [style.width, style.height] = [Number(m[1]), Number(m[2])];
  }
  if (o.seedBase !== undefined) {
    const bad = typeof o.seedBase === 'number' ? seedProblem(o.seedBase) : l10n.t('must be a whole number from {0} to {1}', SEED.min, SEED.max);
    if (bad) problems.push(`"seedBase" ${bad}.`);
    else style.seedBase = o.seedBase as number;
  }
  if (o.fast !== undefined) {
    if (typeof o.fast !== 'boolean') problems.push(l10n.t('"fast" must be true or false (no quotes).'));
    else style.fast = o.fast;
  }
  return { style, problems };
}

/**
 * A stub's request with the course's look: `place` is the stub's 0-based place in the run. The
 * stub's own options win; the style words are added once.
 */
export function applyCourseStyle<T extends StyledFields & { prompt: string }>(request: T, style: CourseStyle, place: number): T {
  const seed = request.seed ?? (style.seedBase !== undefined ? Math.min(SEED.max, style.seedBase + place) : undefined);
  const sized = request.width === undefined && request.height === undefined && style.width ? { width: style.width, height: style.height } : {};
  const added = style.style && !request.prompt.includes(style.style) ? style.style : undefined;
  return { ...request, ...sized, style: added, negativePrompt: request.negativePrompt ?? style.negative, seed, fast: request.fast ?? style.fast };
}
