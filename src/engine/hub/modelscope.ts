// A small ModelScope (modelscope.cn) client, the second place models come from: inside China the
// Hugging Face hub is often out of reach, and ModelScope hosts many of the same models. It speaks
// the two calls of ModelScope's public HTTP API that its own Python SDK (modelscope/hub/api.py,
// file_download.py) uses to download a model:
//
//   GET {endpoint}/api/v1/models/{owner}/{name}/repo/files?Revision={rev}&Recursive=true
//       -> {"Code": 200, "Success": true, "Data": {"Files": [{"Type": "blob"|"tree", "Path",
//           "Name", "Size", "Sha256", "Revision", ...}]}, "Message": ...}
//   GET {endpoint}/api/v1/models/{owner}/{name}/repo?Revision={rev}&FilePath={path}
//       -> the file's bytes; the SDK resumes with Range: bytes=N-
//
// The pull itself (staging, resume, sha256, retries, limits) is download.ts's, as for the hub.
// Not known from the SDK, so not relied on: a revision -> commit call (the branch name is kept as
// the "commit"), which hosts file downloads redirect to (see allowRedirect), and whether the site
// takes a token as `Authorization: Bearer` (it is only ever sent to the endpoint's own origin).

import { DEFAULT_MODELSCOPE_ENDPOINT } from '../../core/modelsProtocol';
import { ModelError, addSecret, printable } from './errors';
import { Credentials, HttpOptions, OpenResponse, httpGet, readText, withoutLogin } from './http';
import { checkRepoName } from './hub';
import { DEFAULT_HUB_LIMITS, HubLimits, RepoFile, RepoSource } from './source';

/** ModelScope's default branch (the hub's is "main"). */
export const MODELSCOPE_DEFAULT_REVISION = 'master';

/**
 * Domains a ModelScope file download may be redirected to, besides the endpoint's own host and
 * domain: ModelScope's sites, and Alibaba Cloud's object storage (aliyuncs.com) that such sites
 * serve large files from. Extend it here if ModelScope moves its files elsewhere.
 */
export const MODELSCOPE_REDIRECT_DOMAINS = ['modelscope.cn', 'modelscope.ai', 'aliyuncs.com'];

export interface ModelScopeOptions extends HttpOptions {
  /** Default https://www.modelscope.cn. */
  endpoint?: string;
  /** Sent as `Authorization: Bearer <token>` to the endpoint's origin only, never to a redirect's host. */
  token?: string;
  limits?: Partial<HubLimits>;
  /** More domains a download may be redirected to (tests: another loopback name). */
  redirectDomains?: string[];
}

/** ModelScope's token from the environment (the name ModelScope's own tools read). */
export function modelscopeTokenFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.MODELSCOPE_API_TOKEN || undefined;
}

export function resolveModelScopeEndpoint(setting?: string): string {
  const raw = (setting?.trim() || DEFAULT_MODELSCOPE_ENDPOINT).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ModelError('badInput', `The ModelScope endpoint "${withoutLogin(raw)}" is not a URL; use ${DEFAULT_MODELSCOPE_ENDPOINT} or leave --endpoint out.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ModelError('badInput', `The ModelScope endpoint "${withoutLogin(raw)}" must start with https:// (or http://).`);
  }
  if (url.username || url.password) {
    throw new ModelError('badInput', `The ModelScope endpoint "${withoutLogin(raw)}" contains a login (user:password@): remove it; a token goes in MODELSCOPE_API_TOKEN.`);
  }
  return raw;
}

function onDomain(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

/**
 * Where a redirect from ModelScope may go: never from https down to http; to the endpoint's own
 * host, its parent domain (www.modelscope.cn -> *.modelscope.cn), or MODELSCOPE_REDIRECT_DOMAINS.
 */
export function modelscopeRedirectPolicy(endpoint: string, extra: string[] = []): (to: URL) => boolean {
  const base = new URL(endpoint);
  const host = base.hostname.toLowerCase();
  const labels = host.split('.');
  const isName = !/^[\d.]+$/.test(host) && !host.includes(':') && labels.length >= 3;
  const domains = [...MODELSCOPE_REDIRECT_DOMAINS, ...extra, ...(isName ? [labels.slice(1).join('.')] : [])];
  return (to) => {
    if (base.protocol === 'https:' && to.protocol !== 'https:') return false;
    const h = to.hostname.toLowerCase();
    return h === host || domains.some((d) => onDomain(h, d));
  };
}

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

export class ModelScopeClient implements RepoSource {
  readonly source = 'modelscope' as const;
  readonly endpoint: string;
  readonly http: HttpOptions;
  readonly limits: HubLimits;
  private readonly credentials?: Credentials;

  constructor(opts: ModelScopeOptions = {}) {
    this.endpoint = resolveModelScopeEndpoint(opts.endpoint);
    this.http = { ...opts, allowRedirect: modelscopeRedirectPolicy(this.endpoint, opts.redirectDomains) };
    this.limits = { ...DEFAULT_HUB_LIMITS, ...opts.limits };
    if (opts.token) {
      addSecret(opts.token);
      this.credentials = { origin: new URL(this.endpoint).origin, authorization: `Bearer ${opts.token}` };
    }
  }

  private repoApi(repo: string): string {
    checkRepoName(repo);
    return `${this.endpoint}/api/v1/models/${repo}`;
  }

  /** ModelScope's page for the repo, for messages. */
  page(repo: string): string {
    return `${this.endpoint}/models/${repo}/files`;
  }

  /** No revision -> commit call is known: the branch or tag is used as it is. */
  async resolveRevision(repo: string, revision: string): Promise<string> {
    checkRepoName(repo);
    return revision;
  }

  /** Turns a non-2xx reply (or a JSON reply whose Code is not 200) into a ModelError that says what to do. */
  private async failure(res: OpenResponse | undefined, repo: string, revision: string, what: string, bodyText?: string): Promise<ModelError> {
    const status = res?.status ?? 200;
    const text = bodyText ?? (res ? await readText(res, 64 << 10, this.http, `the HTTP ${status} reply`).catch(() => '') : '');
    let message = text;
    let code: unknown;
    try {
      const j = JSON.parse(text) as { Message?: unknown; Code?: unknown };
      if (typeof j.Message === 'string') message = j.Message;
      code = j.Code;
    } catch {
      // not JSON: the text itself
    }
    const said = printable(message.slice(0, 300).trim());
    const detail = `HTTP ${status}${code !== undefined && code !== status ? `, Code ${printable(String(code).slice(0, 20))}` : ''}${said ? `: ${said}` : ''}`;
    if (status === 401 || status === 403 || /permission|unauthori[sz]ed|login/i.test(said)) {
      return new ModelError(
        'unauthorized',
        `ModelScope refused access to ${repo} (${detail}). Open ${this.page(repo)}, sign in and check the model is public or shared with you;` +
          ` for a private model set MODELSCOPE_API_TOKEN to an access token from your ModelScope account, or choose Hugging Face as the source.`,
      );
    }
    if (status === 404 || /not (exist|found)|no such|不存在/i.test(said)) {
      return what === 'file list'
        ? new ModelError('notFound', `ModelScope has no model ${repo} at revision "${revision}" (${detail}). Check the name and the branch (ModelScope's default is "master") on ${this.page(repo)}.`)
        : new ModelError('notFound', `${what} not found in ${repo}@${revision} on ModelScope (${detail}): the repo layout may have changed; check ${this.page(repo)}.`);
    }
    if (status === 416) return new ModelError('http', `${what}: ModelScope rejected the byte range (HTTP 416).`, true);
    const retryable = status >= 500 || status === 429 || status === 408;
    return new ModelError('http', `${res?.url.host ?? new URL(this.endpoint).host} answered ${detail} for ${what} of ${repo}@${revision}.`, retryable);
  }

  async listFiles(repo: string, revision: string, signal?: AbortSignal): Promise<RepoFile[]> {
    const url = new URL(`${this.repoApi(repo)}/repo/files`);
    url.searchParams.set('Revision', revision);
    url.searchParams.set('Recursive', 'true');
    const res = await httpGet(url, { Accept: 'application/json' }, this.http, signal, this.credentials);
    if (res.status < 200 || res.status >= 300) throw await this.failure(res, repo, revision, 'file list');
    const text = await readText(res, this.limits.maxJsonBytes, this.http, `the file list of ${repo}`);
    let json: { Code?: unknown; Success?: unknown; Data?: { Files?: unknown } };
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      throw new ModelError('http', `${res.url.host} sent something that is not JSON for the file list of ${repo} (is ${this.endpoint} ModelScope?). It starts: ${printable(text.slice(0, 120))}`, true);
    }
    if ((json.Code !== undefined && json.Code !== 200) || json.Success === false) throw await this.failure(undefined, repo, revision, 'file list', text);
    const entries = json.Data?.Files;
    if (!Array.isArray(entries)) throw new ModelError('http', `The file list of ${repo}@${revision} from ${res.url.host} has no Data.Files list (is ${this.endpoint} ModelScope?).`);
    if (entries.length > this.limits.maxListEntries) {
      throw new ModelError('http', `The file list of ${repo}@${revision} from ${res.url.host} has ${entries.length} entries, past the ${this.limits.maxListEntries} a model may list; stopped reading it.`);
    }
    const files: RepoFile[] = [];
    for (const e of entries) {
      if (typeof e !== 'object' || e === null) continue;
      const o = e as Record<string, unknown>;
      if (o.Type === 'tree') continue;
      if (typeof o.Path !== 'string' || !isSize(o.Size)) {
        throw new ModelError('http', `The file list of ${repo} has an entry without a Path or a valid Size: ${printable(JSON.stringify(e).slice(0, 200))}`);
      }
      const file: RepoFile = { path: o.Path, size: o.Size };
      // No Sha256: the pull computes one and records it, as for the hub's small files.
      const sha = typeof o.Sha256 === 'string' ? o.Sha256.toLowerCase() : '';
      if (/^[0-9a-f]{64}$/.test(sha)) file.sha256 = sha;
      files.push(file);
    }
    return files;
  }

  async openFile(repo: string, revision: string, path: string, start: number, signal?: AbortSignal): Promise<OpenResponse> {
    const url = new URL(`${this.repoApi(repo)}/repo`);
    url.searchParams.set('Revision', revision);
    url.searchParams.set('FilePath', path);
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
    if (start > 0) headers.Range = `bytes=${start}-`;
    const res = await httpGet(url, headers, this.http, signal, this.credentials);
    if (res.status !== 200 && res.status !== 206) throw await this.failure(res, repo, revision, path);
    return res;
  }
}
