// A1111's LoRA tags in a prompt: `<lora:NAME>` or `<lora:NAME:MULT>` (MULT defaults to 1;
// `<lyco:...>` is the same, as in A1111). The tags are taken out of the text the text encoder
// sees and stay in the prompt written to the PNG's parameters, as A1111 does, so the image can be
// made again. Pure: the engine resolves NAME to NAME.safetensors in its LoRA folders.

export interface LoraTag {
  name: string;
  multiplier: number;
  /** The tag as written, for messages. */
  tag: string;
}

export interface LoraTagParse {
  /** The prompt without its tags. */
  text: string;
  tags: LoraTag[];
  /** Tags that cannot be used, each with what is wrong. */
  problems: string[];
}

const TAG = /<(lora|lyco):([^>]*)>/gi;

export function extractLoraTags(prompt: string): LoraTagParse {
  const tags: LoraTag[] = [];
  const problems: string[] = [];
  const text = prompt.replace(TAG, (tag: string, _kind: string, body: string) => {
    const parts = body.split(':').map((p) => p.trim());
    const name = parts[0];
    if (!name) {
      problems.push(`${tag} has no name: write <lora:NAME> or <lora:NAME:0.8>`);
      return '';
    }
    if (parts.length > 2) {
      problems.push(`${tag}: only one multiplier is supported (separate text encoder and UNet weights are not): write <lora:${name}:0.8>`);
      return '';
    }
    const raw = parts[1];
    const multiplier = raw === undefined || raw === '' ? 1 : Number(raw);
    if (!Number.isFinite(multiplier) || (raw !== undefined && !/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(raw))) {
      problems.push(`${tag}: the multiplier "${raw}" is not a number (e.g. <lora:${name}:0.8>)`);
      return '';
    }
    tags.push({ name, multiplier, tag });
    return '';
  });
  return { text, tags, problems };
}

/** The text without its LoRA tags, spaces tidied: for alt text and file names, which say what the image shows. */
export function withoutLoraTags(text: string): string {
  return text.replace(TAG, ' ').replace(/\s{2,}/g, ' ').replace(/\s+([,.;:])/g, '$1').trim();
}
