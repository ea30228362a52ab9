// A teacher's own templates: `.course-illustrator/templates.json` in the workspace (shared with
// the course) or the courseIllustrator.templates setting. The same shape in both, described by
// schemas/templates.schema.json (so VS Code completes and checks the file) and checked here,
// where every problem becomes a sentence that names the template and the fix.

import { sizeProblem, NEGATIVE_PROMPT, PROMPT } from './limits';
import { CONTENT_DOMAINS, isContentDomain } from './domain';
import { TEMPLATES, type PromptTemplate } from './templates';
import { isRecord } from './validate';

export const MAX_USER_TEMPLATES = 200;
/** What a teacher's template id may look like (the JSON schema's pattern too). */
export const USER_TEMPLATE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const ID_RE = USER_TEMPLATE_ID;

export interface UserTemplates {
  templates: PromptTemplate[];
  /** One sentence per entry left out, naming it and what to fix. */
  problems: string[];
}

/** `json`: the file's parsed content (`{ "templates": [...] }`) or the setting's array. */
export function parseUserTemplates(json: unknown, where: string): UserTemplates {
  const list = Array.isArray(json) ? json : isRecord(json) && Array.isArray(json.templates) ? json.templates : undefined;
  if (!list) return { templates: [], problems: [`${where}: write { "templates": [ { "id": "...", "label": "...", "prompt": "{subject}, ..." } ] }.`] };
  const templates: PromptTemplate[] = [];
  const problems: string[] = [];
  const seen = new Set(TEMPLATES.map((t) => t.id));
  list.slice(0, MAX_USER_TEMPLATES).forEach((raw, i) => {
    const at = `${where}, template ${i + 1}`;
    if (!isRecord(raw)) return problems.push(`${at}: must be an object with id, label and prompt.`);
    const id = typeof raw.id === 'string' ? raw.id.trim() : '';
    if (!ID_RE.test(id)) return problems.push(`${at}: "id" must be lowercase letters, digits, - or _ (up to 64), like "my-anatomy"; got "${String(raw.id ?? '').slice(0, 40)}".`);
    if (seen.has(id)) return problems.push(`${at}: the id "${id}" is taken (a built-in template or an earlier one); choose another.`);
    const label = typeof raw.label === 'string' && raw.label.trim() ? raw.label.trim().slice(0, 80) : id;
    const prompt = typeof raw.prompt === 'string' ? raw.prompt : '';
    if (!prompt.includes('{subject}')) return problems.push(`${at} (${id}): "prompt" must contain {subject}, where the picture's subject goes, e.g. "{subject}, watercolour, soft light".`);
    if (prompt.length > PROMPT.maxWithTemplate - PROMPT.maxChars) return problems.push(`${at} (${id}): "prompt" is longer than ${PROMPT.maxWithTemplate - PROMPT.maxChars} characters; shorten it.`);
    const negative = raw.negative === undefined ? undefined : typeof raw.negative === 'string' && raw.negative.length <= NEGATIVE_PROMPT.maxChars ? raw.negative : null;
    if (negative === null) return problems.push(`${at} (${id}): "negative" must be text of at most ${NEGATIVE_PROMPT.maxChars} characters.`);
    const domain = raw.domain === undefined ? 'general' : raw.domain;
    if (!isContentDomain(domain)) return problems.push(`${at} (${id}): "domain" must be ${CONTENT_DOMAINS.join(', ')}.`);
    let size: string | undefined;
    if (raw.size !== undefined) {
      const m = typeof raw.size === 'string' ? /^(\d+)x(\d+)$/.exec(raw.size) : null;
      if (!m || sizeProblem(Number(m[1])) || sizeProblem(Number(m[2]))) return problems.push(`${at} (${id}): "size" must be WIDTHxHEIGHT in multiples of 8, like "768x512".`);
      size = raw.size as string;
    }
    seen.add(id);
    templates.push({ id, label, prompt, ...(negative !== undefined ? { negative } : {}), domain, ...(size ? { size } : {}) });
  });
  if (list.length > MAX_USER_TEMPLATES) problems.push(`${where}: only the first ${MAX_USER_TEMPLATES} templates are used.`);
  return { templates, problems };
}
