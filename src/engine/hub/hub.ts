// A small Hugging Face hub client: resolve a revision to a commit, list a repo's files with sizes
// and LFS sha256, and open a file (optionally from a byte offset). It speaks the hub's plain HTTP
// API, so mirrors that copy it (HF_ENDPOINT) work too.
//
// Why our own client rather than @huggingface/hub: its download helpers neither resume a .part
// file with a Range request nor verify the sha256 for us, and both are the point of this module.
// Why not global fetch: Node 20's fetch ignores HTTPS_PROXY (see http.ts).

import { hubEndpoint } from '../../core/modelsProtocol';
import { ModelError, addSecret, printable } from './errors';
import { Credentials, HttpOptions, OpenResponse, httpGet, readText, withoutLogin } from './http';
import { DEFAULT_HUB_LIMITS, HubLimits, RepoFile, RepoSource } from './source';

export { DEFAULT_HUB_LIMITS } from './source';
export type { HubLimits, RepoFile } from './source';

export interface HubOptions extends HttpOptions {
  /** Hub or mirror base URL; default: HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /**
   * Sent as `Authorization: Bearer <token>` to the endpoint's origin only: never to the CDN it
   * redirects to, nor to a page or redirect on any other host.
   */
  token?: string;
  limits?: Partial<HubLimits>;
}

/**
 * The endpoint to use: an explicit setting, else HF_ENDPOINT, else huggingface.co, without a
 * trailing slash (hubEndpoint), checked to be an http(s) URL without a login.
 */
export function resolveEndpoint(setting?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = hubEndpoint(setting, env.HF_ENDPOINT);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ModelError(
      'badInput',
      `The hub endpoint "${withoutLogin(raw)}" is not a URL (from ${setting ? 'courseIllustrator.hubEndpoint' : 'HF_ENDPOINT'}); use something like https://huggingface.co or a mirror's https://host.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ModelError('badInput', `The hub endpoint "${withoutLogin(raw)}" must start with https:// (or http://).`);
  }
  // A login in the URL would be printed, logged and written into manifests; a token is kept apart.
  if (url.username || url.password) {
    throw new ModelError('badInput', `The hub endpoint "${withoutLogin(raw)}" contains a login (user:password@): remove it and use a token instead (HF_TOKEN for the CLI; "Enter Token…" in VS Code).`);
  }
  return raw;
}

/**
 * The hub token from the environment, as huggingface_hub reads it: HF_TOKEN, else the older
 * HUGGING_FACE_HUB_TOKEN. The CLI uses it, and the engine for a models/pull that sends none.
 */
export function hubTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined;
}

const REPO_RE = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function checkRepoName(repo: string): void {
  if (!REPO_RE.test(repo) || repo.includes('..')) {
    throw new ModelError('badInput', `"${repo}" is not a hub repo name; expected owner/name like onnx-community/stable-diffusion-v1-5-ONNX.`);
  }
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

/** `<url>; rel="next"` from a Link header (the hub paginates like GitHub). */
export function nextLink(header: string | string[] | undefined, base: URL): URL | undefined {
  const text = Array.isArray(header) ? header.join(',') : header;
  if (!text) return undefined;
  for (const part of text.split(/,(?=\s*<)/)) {
    const m = /<([^>]*)>\s*;(.*)$/.exec(part.trim());
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2])) {
      try {
        return new URL(m[1], base);
      } catch {
        throw new ModelError('http', `${base.host} sent a next-page link that is not a URL: ${printable(m[1].slice(0, 100))}`);
      }
    }
  }
  return undefined;
}

function headerText(h: string | string[] | undefined): string {
  return (Array.isArray(h) ? h[0] : h) ?? '';
}

export class HubClient implements RepoSource {
  readonly source = 'huggingface' as const;
  readonly endpoint: string;
  readonly http: HttpOptions;
  readonly limits: HubLimits;
  private readonly credentials?: Credentials;

  constructor(opts: HubOptions = {}) {
    this.endpoint = resolveEndpoint(opts.endpoint, opts.env ?? process.env);
    this.http = opts;
    this.limits = { ...DEFAULT_HUB_LIMITS, ...opts.limits };
    if (opts.token) {
      addSecret(opts.token);
      // Scoped to the endpoint's origin for every request, pagination and redirects included.
      this.credentials = { origin: new URL(this.endpoint).origin, authorization: `Bearer ${opts.token}` };
    }
  }

  get hasToken(): boolean {
    return this.credentials !== undefined;
  }

  private get(url: URL, headers: Record<string, string>, signal?: AbortSignal): Promise<OpenResponse> {
    return httpGet(url, headers, this.http, signal, this.credentials);
  }

  fileUrl(repo: string, revision: string, path: string): URL {
    return new URL(`${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`);
  }

  /** Turns a non-2xx reply into a ModelError that says what to fix; reads a bit of the body. */
  async failure(res: OpenResponse, repo: string, revision: string, what: string): Promise<ModelError> {
    const body = await readText(res, 64 << 10, this.http, `the HTTP ${res.status} reply`).catch(() => '');
    // Both are the server's words: shown escaped, never able to drive the terminal.
    const hubCode = printable(headerText(res.headers['x-error-code']).slice(0, 100));
    const hubMessage = printable((headerText(res.headers['x-error-message']) || body).slice(0, 300).trim());
    const page = `${this.endpoint}/${repo}`;
    const status = res.status;
    if (hubCode === 'RepoNotFound' || (status === 404 && !hubCode && what === 'file list')) {
      return new ModelError(
        'notFound',
        `The hub has no repo ${repo} at revision "${revision}" (HTTP ${status}${hubCode ? ` ${hubCode}` : ''}). Check the name and revision on ${page}.` +
          (this.hasToken ? '' : ' If it is private, set a token (HF_TOKEN for the CLI; the extension asks for one).'),
      );
    }
    if (hubCode === 'RevisionNotFound') {
      return new ModelError('notFound', `${repo} has no revision "${revision}" (HTTP ${status}). See the branches on ${page}/tree/main.`);
    }
    if (hubCode === 'EntryNotFound' || status === 404) {
      return new ModelError('notFound', `${what} not found in ${repo}@${revision} (HTTP ${status}): the repo layout may have changed; check ${page}/tree/${revision}.`);
    }
    if (status === 401 || status === 403 || hubCode === 'GatedRepo') {
      const gated = hubCode === 'GatedRepo' || /gated|accept|access/i.test(hubMessage);
      return new ModelError(
        'unauthorized',
        `The hub refused access to ${repo} (HTTP ${status}${hubCode ? ` ${hubCode}` : ''}).` +
          (gated ? ` The repo is gated: open ${page}, sign in and accept its conditions, then` : ' Sign in on the hub and') +
          ` create a read token at ${this.endpoint}/settings/tokens.` +
          ` CLI: set HF_TOKEN=<token>. VS Code: run "Download Model…" again and choose "Enter Token…" (kept in VS Code's secret storage).` +
          (this.hasToken ? ' The token that was sent was not accepted: check it is valid and has read access.' : ''),
      );
    }
    if (status === 416) {
      return new ModelError('http', `${what}: the server rejected the byte range (HTTP 416).`, true);
    }
    const retryable = status >= 500 || status === 429 || status === 408;
    return new ModelError('http', `${res.url.host} answered HTTP ${status} for ${what} of ${repo}@${revision}${hubMessage ? `: ${hubMessage}` : ''}.`, retryable);
  }

  private async getJson(url: URL, repo: string, revision: string, what: string, signal?: AbortSignal): Promise<{ json: unknown; res: OpenResponse }> {
    const res = await this.get(url, { Accept: 'application/json' }, signal);
    if (res.status < 200 || res.status >= 300) throw await this.failure(res, repo, revision, what);
    const text = await readText(res, this.limits.maxJsonBytes, this.http, `the ${what} of ${repo}`);
    try {
      return { json: JSON.parse(text), res };
    } catch {
      throw new ModelError('http', `${res.url.host} sent something that is not JSON for the ${what} of ${repo} (is HF_ENDPOINT a hub or mirror?). It starts: ${printable(text.slice(0, 120))}`, true);
    }
  }

  /**
   * The commit sha of `revision`, so every file comes from the same commit even if the branch
   * moves during a long download. Mirrors that lack this API call get the revision back as is.
   */
  async resolveRevision(repo: string, revision: string, signal?: AbortSignal): Promise<string> {
    checkRepoName(repo);
    if (/^[0-9a-f]{40}$/.test(revision)) return revision;
    const url = new URL(`${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`);
    try {
      const { json } = await this.getJson(url, repo, revision, 'revision', signal);
      const sha = (json as { sha?: unknown }).sha;
      return typeof sha === 'string' && /^[0-9a-f]{40}$/.test(sha) ? sha : revision;
    } catch (err) {
      if (err instanceof ModelError && (err.code === 'cancelled' || err.code === 'unauthorized' || err.code === 'offline')) throw err;
      // Not fatal: the file list below reports a missing repo or revision precisely.
      return revision;
    }
  }

  /**
   * Every file of the repo at `revision` (directories left out), following Link pagination up
   * to the page and entry limits. A next page on another host is fetched without the token.
   */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]> {
    checkRepoName(repo);
    const { maxListPages, maxListEntries } = this.limits;
    let url: URL | undefined = new URL(`${this.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`);
    const files: RepoFile[] = [];
    let entries = 0;
    const tooLong = (what: string, host: string): ModelError =>
      new ModelError(
        'http',
        `The file list of ${repo}@${revision} from ${host} goes past ${what}; stopped reading it. No model needs that many: ` +
          `check that ${this.endpoint} (HF_ENDPOINT / courseIllustrator.hubEndpoint) is a hub or mirror and the repo is the one you meant.`,
      );
    for (let page = 0; url; page++) {
      if (page >= maxListPages) throw tooLong(`${maxListPages} pages`, url.host);
      const { json, res }: { json: unknown; res: OpenResponse } = await this.getJson(url, repo, revision, 'file list', signal);
      if (!Array.isArray(json)) throw new ModelError('http', `The file list of ${repo}@${revision} is not a JSON array (endpoint ${this.endpoint}).`);
      entries += json.length;
      if (entries > maxListEntries) throw tooLong(`${maxListEntries} entries`, res.url.host);
      for (const e of json) files.push(...parseTreeEntry(e, repo));
      url = nextLink(res.headers.link, res.url);
    }
    return files;
  }

  /** Opens a file for reading from byte `start`; the caller checks the status (200 or 206). */
  async openFile(repo: string, revision: string, path: string, start: number, signal?: AbortSignal): Promise<OpenResponse> {
    const extra: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (start > 0) extra.Range = `bytes=${start}-`;
    const res = await this.get(this.fileUrl(repo, revision, path), extra, signal);
    if (res.status !== 200 && res.status !== 206) throw await this.failure(res, repo, revision, path);
    return res;
  }

  announcedSha256(res: OpenResponse): string | undefined {
    return announcedSha256(res);
  }
}

/** A byte count we can add up exactly (no float, no negative, no 2^53 and beyond). */
function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

function parseTreeEntry(e: unknown, repo: string): RepoFile[] {
  if (typeof e !== 'object' || e === null) return [];
  const o = e as Record<string, unknown>;
  if (o.type !== 'file') return [];
  const path = o.path;
  const size = o.size;
  const lfs = o.lfs as Record<string, unknown> | undefined;
  const lfsSize = lfs && typeof lfs === 'object' ? lfs.size : undefined;
  if (typeof path !== 'string' || !isSize(size) || (lfsSize !== undefined && !isSize(lfsSize))) {
    throw new ModelError('http', `The file list of ${repo} has an entry without a path or a valid size: ${printable(JSON.stringify(e).slice(0, 200))}`);
  }
  const file: RepoFile = { path, size };
  if (lfs && typeof lfs === 'object') {
    const oid = typeof lfs.oid === 'string' ? lfs.oid.replace(/^sha256:/, '') : '';
    if (/^[0-9a-f]{64}$/.test(oid)) file.sha256 = oid;
    if (isSize(lfsSize)) file.size = lfsSize;
  } else if (typeof o.oid === 'string' && /^[0-9a-f]{40}$/.test(o.oid)) {
    file.gitOid = o.oid;
  }
  return [file];
}

/**
 * The sha256 the hub announces for an LFS file: X-Linked-Etag (or ETag) on the hub's own reply,
 * which for LFS files is the redirect to the CDN; a CDN's ETag is something else (md5...).
 */
export function announcedSha256(res: OpenResponse): string | undefined {
  for (const headers of [...res.redirectHeaders, res.headers]) {
    for (const name of ['x-linked-etag', 'etag']) {
      const v = headerText(headers[name]).replace(/^W\//, '').replace(/"/g, '');
      if (/^[0-9a-f]{64}$/.test(v)) return v;
    }
  }
  return undefined;
}
