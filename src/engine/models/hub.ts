// A small Hugging Face hub client: resolve a revision to a commit, list a repo's files with sizes
// and LFS sha256, and open a file (optionally from a byte offset). It speaks the hub's plain HTTP
// API, so mirrors that copy it (HF_ENDPOINT) work too.
//
// Why our own client rather than @huggingface/hub: its download helpers neither resume a .part
// file with a Range request nor verify the sha256 for us, and both are the point of this module.
// Why not global fetch: Node 20's fetch ignores HTTPS_PROXY (see http.ts).

import { ModelError } from './errors';
import { HttpOptions, OpenResponse, httpGet, readText } from './http';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

export interface HubOptions extends HttpOptions {
  /** Hub or mirror base URL; default: HF_ENDPOINT or https://huggingface.co. */
  endpoint?: string;
  /** Sent as `Authorization: Bearer <token>` to the hub (never to the CDN it redirects to). */
  token?: string;
}

export interface RepoFile {
  path: string;
  size: number;
  /** sha256 (hex) of the content, for files stored with git LFS (all large weights). */
  sha256?: string;
  /** The git blob id (sha1 of "blob <size>\0" + content); what we check small files against. */
  gitOid?: string;
}

/** The endpoint to use: an explicit setting, else HF_ENDPOINT, else huggingface.co; no trailing slash. */
export function resolveEndpoint(setting?: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = (setting?.trim() || env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ModelError('badInput', `The hub endpoint "${raw}" is not a URL (from ${setting ? 'courseIllustrator.hubEndpoint' : 'HF_ENDPOINT'}); use something like https://huggingface.co or a mirror's https://host.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ModelError('badInput', `The hub endpoint "${raw}" must start with https:// (or http://).`);
  }
  return raw;
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
    if (m && /\brel\s*=\s*"?next"?/i.test(m[2])) return new URL(m[1], base);
  }
  return undefined;
}

function headerText(h: string | string[] | undefined): string {
  return (Array.isArray(h) ? h[0] : h) ?? '';
}

export class HubClient {
  readonly endpoint: string;
  readonly http: HttpOptions;
  private readonly token?: string;

  constructor(opts: HubOptions = {}) {
    this.endpoint = resolveEndpoint(opts.endpoint, opts.env ?? process.env);
    this.token = opts.token || undefined;
    this.http = opts;
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.token ? { Authorization: `Bearer ${this.token}`, ...extra } : extra;
  }

  fileUrl(repo: string, revision: string, path: string): URL {
    return new URL(`${this.endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(path)}`);
  }

  /** Turns a non-2xx reply into a ModelError that says what to fix; reads a bit of the body. */
  async failure(res: OpenResponse, repo: string, revision: string, what: string): Promise<ModelError> {
    const body = await readText(res.body, 64 << 10).catch(() => '');
    const hubCode = headerText(res.headers['x-error-code']);
    const hubMessage = headerText(res.headers['x-error-message']) || body.slice(0, 300).trim();
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
    const res = await httpGet(url, this.headers({ Accept: 'application/json' }), this.http, signal);
    if (res.status < 200 || res.status >= 300) throw await this.failure(res, repo, revision, what);
    const text = await readText(res.body);
    try {
      return { json: JSON.parse(text), res };
    } catch {
      throw new ModelError('http', `${res.url.host} sent something that is not JSON for the ${what} of ${repo} (is HF_ENDPOINT a hub or mirror?). It starts: ${text.slice(0, 120)}`, true);
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

  /** Every file of the repo at `revision` (directories left out), following Link pagination. */
  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]> {
    checkRepoName(repo);
    let url: URL | undefined = new URL(`${this.endpoint}/api/models/${repo}/tree/${encodeURIComponent(revision)}?recursive=true`);
    const files: RepoFile[] = [];
    for (let page = 0; url; page++) {
      if (page >= 1000) throw new ModelError('http', `The file list of ${repo} has more than 1000 pages; giving up.`);
      const { json, res }: { json: unknown; res: OpenResponse } = await this.getJson(url, repo, revision, 'file list', signal);
      if (!Array.isArray(json)) throw new ModelError('http', `The file list of ${repo}@${revision} is not a JSON array (endpoint ${this.endpoint}).`);
      for (const e of json) files.push(...parseTreeEntry(e, repo));
      url = nextLink(res.headers.link, res.url);
    }
    return files;
  }

  /** Opens a file for reading from byte `start`; the caller checks the status (200 or 206). */
  async openFile(repo: string, revision: string, path: string, start: number, signal?: AbortSignal): Promise<OpenResponse> {
    const extra: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (start > 0) extra.Range = `bytes=${start}-`;
    const res = await httpGet(this.fileUrl(repo, revision, path), this.headers(extra), this.http, signal);
    if (res.status !== 200 && res.status !== 206) throw await this.failure(res, repo, revision, path);
    return res;
  }
}

function parseTreeEntry(e: unknown, repo: string): RepoFile[] {
  if (typeof e !== 'object' || e === null) return [];
  const o = e as Record<string, unknown>;
  if (o.type !== 'file') return [];
  const path = o.path;
  const size = o.size;
  if (typeof path !== 'string' || typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
    throw new ModelError('http', `The file list of ${repo} has an entry without a path or size: ${JSON.stringify(e).slice(0, 200)}`);
  }
  const lfs = o.lfs as Record<string, unknown> | undefined;
  const file: RepoFile = { path, size };
  if (lfs && typeof lfs === 'object') {
    const oid = typeof lfs.oid === 'string' ? lfs.oid.replace(/^sha256:/, '') : '';
    if (/^[0-9a-f]{64}$/.test(oid)) file.sha256 = oid;
    if (typeof lfs.size === 'number') file.size = lfs.size;
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
