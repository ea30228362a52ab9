// The model catalogue (catalogue.json, a data file meant to be corrected by hand) and the
// resolution of "what to pull": a catalogue id, or any hub repo `owner/name[@revision]`.
//
// Assumptions, written down because none could be checked from where this was written (no hub
// access): the four repos in catalogue.json exist with the diffusers ONNX layout described in
// their "notes"; their "main" branch is what we want. Every pull resolves the revision to a commit
// and records it in the model's manifest, so what was actually installed is always known.

import { MODEL_KINDS, type CatalogueSummary, type ModelKind, type ModelSourceName } from '../../core/modelsProtocol';
import { isOneOf } from '../../core/validate';
import { ModelError } from './errors';
import { checkRepoName } from './hub';
import { checkModelId } from './paths';
import { MODELSCOPE_DEFAULT_REVISION } from './modelscope';
import data from './catalogue.json';

export interface CatalogueEntry {
  id: string;
  title: string;
  repo: string;
  revision: string;
  kind: ModelKind;
  /** Which provider family it suits: 'cpu', 'gpu' (fp16) or 'any'. */
  device: 'cpu' | 'gpu' | 'any';
  default: boolean;
  approxBytes: number;
  /** Files that must be in the repo. */
  require: string[];
  include: string[];
  exclude: string[];
  notes: string;
  /**
   * The same files on ModelScope, "owner/name" or "owner/name@revision" (default revision
   * master), for `--source modelscope`. Absent where no ModelScope repo was checked to hold them.
   */
  modelscope?: string;
}

/** What a pull fetches: a repo at a revision, a selection of its files, and the store folder name. */
export interface PullTarget {
  id: string;
  title: string;
  repo: string;
  revision: string;
  kind: ModelKind;
  require: string[];
  include: string[];
  exclude: string[];
  catalogueId?: string;
}

/** Weights in formats the engine does not run, left out when a bare repo is pulled. */
export const DEFAULT_EXCLUDE = [
  '**/*.safetensors',
  '**/*.bin',
  '**/*.ckpt',
  '**/*.pt',
  '**/*.pth',
  '**/*.msgpack',
  '**/*.h5',
  '**/*.tflite',
  '**/*.mlmodel*',
  '**/*.mlpackage/**',
  '**/*.png',
  '**/*.jpg',
  '**/*.gif',
  '**/*.md',
  '.gitattributes',
];

function strings(v: unknown, where: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string' || !s)) throw new Error(`${where} must be a list of strings`);
  return v as string[];
}

/** Checks one catalogue entry; errors name the entry and field so the JSON can be fixed. */
export function parseCatalogue(json: unknown): CatalogueEntry[] {
  const models = (json as { models?: unknown })?.models;
  if (!Array.isArray(models)) throw new Error('catalogue.json: "models" must be a list');
  const seen = new Set<string>();
  return models.map((m: unknown, i) => {
    const o = (m ?? {}) as Record<string, unknown>;
    const where = `catalogue.json models[${i}]${typeof o.id === 'string' ? ` (${o.id})` : ''}`;
    const str = (k: string): string => {
      if (typeof o[k] !== 'string' || !o[k]) throw new Error(`${where}: "${k}" must be a non-empty string`);
      return o[k] as string;
    };
    const id = str('id');
    checkModelId(id);
    if (seen.has(id)) throw new Error(`${where}: duplicate id`);
    seen.add(id);
    const repo = str('repo');
    checkRepoName(repo);
    const kind = str('kind');
    if (!isOneOf(MODEL_KINDS, kind)) throw new Error(`${where}: "kind" must be one of ${MODEL_KINDS.join(', ')}`);
    const device = str('device');
    if (device !== 'cpu' && device !== 'gpu' && device !== 'any') throw new Error(`${where}: "device" must be cpu, gpu or any`);
    if (typeof o.approxBytes !== 'number' || !(o.approxBytes > 0)) throw new Error(`${where}: "approxBytes" must be a positive number`);
    const entry: CatalogueEntry = {
      id,
      title: str('title'),
      repo,
      revision: str('revision'),
      kind,
      device,
      default: o.default === true,
      approxBytes: o.approxBytes,
      require: strings(o.require, `${where} "require"`),
      include: strings(o.include, `${where} "include"`),
      exclude: strings(o.exclude, `${where} "exclude"`),
      notes: typeof o.notes === 'string' ? o.notes : '',
    };
    if (entry.include.length === 0 && entry.require.length === 0) throw new Error(`${where}: needs "include" or "require"`);
    if (o.modelscope !== undefined && o.modelscope !== '') {
      if (typeof o.modelscope !== 'string') throw new Error(`${where}: "modelscope" must be "owner/name[@revision]"`);
      checkRepoName(splitRepoSpec(o.modelscope, MODELSCOPE_DEFAULT_REVISION).repo);
      entry.modelscope = o.modelscope;
    }
    return entry;
  });
}

let cached: CatalogueEntry[] | undefined;

export function catalogue(): CatalogueEntry[] {
  cached ??= parseCatalogue(data);
  return cached;
}

export function catalogueSummaries(): CatalogueSummary[] {
  return catalogue().map((e) => ({
    id: e.id,
    title: e.title,
    repo: e.repo,
    revision: e.revision,
    kind: e.kind,
    approxBytes: e.approxBytes,
    default: e.default,
    notes: e.notes,
    modelscope: e.modelscope,
  }));
}

/** "owner/name@rev" -> its parts; `defaultRevision` when there is no "@". */
export function splitRepoSpec(spec: string, defaultRevision: string): { repo: string; revision: string } {
  const at = spec.indexOf('@');
  return at < 0 ? { repo: spec, revision: defaultRevision } : { repo: spec.slice(0, at), revision: spec.slice(at + 1) };
}

/** The branch a source's repos start on: the hub's "main", ModelScope's "master". */
export function defaultRevision(source: ModelSourceName): string {
  return source === 'modelscope' ? MODELSCOPE_DEFAULT_REVISION : 'main';
}

/** Store folder name for a bare repo: "owner--name", plus "@revision" when not the default branch. */
export function repoModelId(repo: string, revision: string, branch = 'main'): string {
  const base = repo.replace('/', '--');
  return revision === branch ? base : `${base}@${revision.replace(/[^\w.-]/g, '_')}`;
}

/**
 * "sd15-onnx" -> its catalogue entry; "owner/name" or "owner/name@rev" -> that repo with the
 * default selection (everything but non-ONNX weights), or `include`/`exclude` when given.
 */
export function resolveModelSpec(
  spec: string,
  opts: { include?: string[]; exclude?: string[]; entries?: CatalogueEntry[]; source?: ModelSourceName } = {},
): PullTarget {
  const entries = opts.entries ?? catalogue();
  const source = opts.source ?? 'huggingface';
  const s = spec.trim();
  const entry = entries.find((e) => e.id === s);
  if (entry) {
    let { repo, revision } = entry;
    if (source === 'modelscope') {
      if (!entry.modelscope) {
        throw new ModelError(
          'badInput',
          `The catalogue knows no ModelScope repo for "${s}". Pull it from Hugging Face (or a mirror such as https://hf-mirror.com, with --endpoint), ` +
            `or pull a ModelScope repo that holds the same files by name: models pull owner/name --source modelscope --include ...`,
        );
      }
      ({ repo, revision } = splitRepoSpec(entry.modelscope, MODELSCOPE_DEFAULT_REVISION));
    }
    if (opts.include || opts.exclude) {
      throw new ModelError('badInput', `--include/--exclude apply to a repo, not to the catalogue model "${s}"; pull ${repo} instead to choose files.`);
    }
    return {
      id: entry.id,
      title: entry.title,
      repo,
      revision,
      kind: entry.kind,
      require: entry.require,
      include: entry.include,
      exclude: entry.exclude,
      catalogueId: entry.id,
    };
  }
  if (!s.includes('/')) {
    throw new ModelError('badInput', `Unknown model "${s}". Use a catalogue id (${entries.map((e) => e.id).join(', ')}) or a hub repo like owner/name[@revision].`);
  }
  const branch = defaultRevision(source);
  const { repo, revision } = splitRepoSpec(s, branch);
  checkRepoName(repo);
  if (!revision || /\s|\.\./.test(revision)) throw new ModelError('badInput', `"${s}": the revision after "@" must be a branch, tag or commit.`);
  const id = repoModelId(repo, revision, branch);
  checkModelId(id);
  return {
    id,
    title: s.includes('@') ? `${repo}@${revision}` : repo,
    repo,
    revision,
    kind: 'pipeline',
    require: [],
    include: opts.include ?? ['**'],
    exclude: opts.exclude ?? DEFAULT_EXCLUDE,
  };
}
