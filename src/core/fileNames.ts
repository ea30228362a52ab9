// File names for generated images, shared by the engine (--out-dir) and the extension (image
// folder next to the Markdown file). Pure: existence is asked through a callback.

import { pinyin } from 'pinyin-pro';

/**
 * How Chinese text becomes a file name: as pinyin ("植物细胞" -> "zhi-wu-xi-bao", ASCII, safe in
 * every tool and URL), or kept as it is (valid on Windows, macOS and Linux; links are
 * percent-encoded, which VS Code's preview reads).
 */
export type NameScript = 'pinyin' | 'original';

const HAN_RUN = /[\u3400-\u9fff\uf900-\ufaff]+/gu;

export const FALLBACK_SLUG = 'illustration';

// Windows refuses these as file names whatever the extension.
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/;

/**
 * ASCII-safe, lowercase, dash-separated name made from a prompt: accents are dropped
 * ("Café" -> "cafe"), A1111 emphasis and other punctuation become separators, and the result is
 * cut at a dash boundary to at most maxLen characters. Never empty.
 */
export function slugify(prompt: string, maxLen = 48, script: NameScript = 'pinyin'): string {
  const limit = Math.max(1, Math.floor(maxLen));
  // A LoRA tag (<lora:NAME:0.8>) says how the image was made, not what it shows.
  const text = prompt.replace(/<(?:lora|lyco):[^>]*>/gi, ' ');
  // Pinyin with the words a reader would see (pinyin-pro reads polyphones in context: 银行 yin hang).
  // Not for Japanese (kana beside the kanji): pinyin would misread it.
  const japanese = /[\u3040-\u30ff]/.test(text);
  const spelled = script === 'pinyin' && !japanese ? text.replace(HAN_RUN, (run) => ` ${pinyin(run, { toneType: 'none', type: 'array' }).join(' ')} `) : text;
  const ascii = spelled
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ß/g, 'ss')
    .replace(/[æÆ]/g, 'ae')
    .replace(/[œŒ]/g, 'oe')
    .replace(/[øØ]/g, 'o')
    .replace(/[łŁ]/g, 'l')
    .toLowerCase()
    // NFKD took the accents off; Han characters kept as they are recompose (none have accents).
    .normalize('NFC');
  const words = ascii.split(script === 'original' ? /[^a-z0-9\u3400-\u9fff\uf900-\ufaff]+/u : /[^a-z0-9]+/).filter((w) => w.length > 0);
  let slug = '';
  for (const word of words) {
    const next = slug === '' ? word : `${slug}-${word}`;
    if (next.length <= limit) {
      slug = next;
    } else {
      // A first word longer than the limit is cut; later ones end the slug at a dash.
      if (slug === '') slug = word.slice(0, limit);
      break;
    }
  }
  if (slug === '') return FALLBACK_SLUG.slice(0, limit);
  // "con.png" cannot be created on Windows; a suffix keeps the name meaningful.
  if (WINDOWS_RESERVED.test(slug)) return `${slug}-image`;
  return slug;
}

/** "<slug>-<seed>.png". */
export function imageFileName(prompt: string, seed: number, script: NameScript = 'pinyin'): string {
  return `${slugify(prompt, 48, script)}-${seed}.png`;
}

/** Splits "a/b/name.tar.png" style names at the last dot of the base name ("name.tar", ".png"). */
function splitExtension(name: string): [string, string] {
  const slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
  const dot = name.lastIndexOf('.');
  if (dot <= slash + 1) return [name, ''];
  return [name.slice(0, dot), name.slice(dot)];
}

/**
 * `name` if it is free, else name-2, name-3 ... inserted before the extension
 * ("cat-42.png" -> "cat-42-2.png"). Never returns a name for which exists() is true.
 */
export function nextFreeName(name: string, exists: (n: string) => boolean): string {
  if (!exists(name)) return name;
  const [stem, ext] = splitExtension(name);
  for (let i = 2; i < 1_000_000; i++) {
    const candidate = `${stem}-${i}${ext}`;
    if (!exists(candidate)) return candidate;
  }
  throw new Error(`no free file name like "${name}" (tried ${stem}-2${ext} to ${stem}-999999${ext})`);
}
