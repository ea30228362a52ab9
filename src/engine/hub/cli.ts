// `course-illustrator models list | pull | verify | remove | import`: progress and messages on stderr, one
// JSON summary on stdout (also on failure: {"error": {code, message}}), and an exit status:
// 0 ok, 1 verify found problems or an unexpected failure, 2 bad input, 3 download/model
// problems, 4 disk problems, 130 cancelled (Ctrl+C; the partial download is kept).

import { formatBytes, formatDurationWords } from '../../core/format';
import { DEFAULT_HUB_ENDPOINT, DEFAULT_MODELSCOPE_ENDPOINT, InstalledModel, MODEL_SOURCES, ModelSourceName, ModelsProgress, formatProgress } from '../../core/modelsProtocol';
import { ParsedArgs, parseArgs } from '../cliArgs';
import { EngineError, exitCode } from '../errors';
import { catalogue, resolveModelSpec } from './catalogue';
import { PullProgress, pullModel } from './download';
import { ModelError, printable, redact } from './errors';
import { hubTokenFromEnv } from './hub';
import { sourceClient } from './sources';
import { defaultStoreDir, listInstalled, listPartial, removeModel, verifyModel } from './store';
import { DEFAULT_BASE, ImportProgress, importCheckpoint } from '../checkpoint/importCheckpoint';
import * as path from 'node:path';

export interface ModelsIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const USAGE = `usage: course-illustrator models <command>

  list                          catalogue, installed models and partial downloads
  pull <id | owner/name[@rev]>  download (resumes a partial download) and verify
       [--include GLOB]... [--exclude GLOB]...   files of a repo to fetch (repos only)
       [--parallel N]           files at once (1-8, default 3)
       [--source huggingface|modelscope]   where from (default huggingface; modelscope: modelscope.cn,
                                often the reachable one inside China; repos default to branch master)
       [--endpoint URL]         hub or mirror (default: $HF_ENDPOINT or ${DEFAULT_HUB_ENDPOINT});
                                with --source modelscope: ${DEFAULT_MODELSCOPE_ENDPOINT}
       [--proxy URL]            (default: $HTTPS_PROXY / $HTTP_PROXY)
  verify <id>                   re-check every file's size and sha256
  remove <id>                   delete a model and any partial download of it
  import <file.safetensors>     make an SD 1.x single-file checkpoint (A1111 / civitai) a model of the store
       [--base ID|DIR]          installed SD 1.5 ONNX model whose graphs it fills (default: ${DEFAULT_BASE})
       [--name ID]              the new model's id (default: from the file name)

  all: [--store DIR]            model store (default: $COURSE_ILLUSTRATOR_MODELS or ~/.cache/course-illustrator/models)

Token for gated or private repos: HF_TOKEN=<token> (or HUGGING_FACE_HUB_TOKEN; read access, from <endpoint>/settings/tokens);
for ModelScope: MODELSCOPE_API_TOKEN=<token>. Each is only ever sent to its own site.
`;

interface Parsed {
  positional: string[];
  store?: string;
  endpoint?: string;
  proxy?: string;
  source: ModelSourceName;
  parallel?: number;
  include: string[];
  exclude: string[];
  base?: string;
  name?: string;
}

const VALUES = ['store', 'endpoint', 'proxy', 'source', 'parallel', 'include', 'exclude', 'base', 'name'];

/** The options of every models command, by the CLI's one parser (cliArgs.ts). */
function parseModelsArgs(args: string[], command: string): Parsed {
  let a: ParsedArgs;
  try {
    a = parseArgs(args, { values: VALUES, flags: [] }, `models ${command}`);
  } catch (err) {
    throw err instanceof EngineError && err.kind === 'badInput' ? new ModelError('badInput', `${err.message}\n\n${USAGE}`) : err;
  }
  for (const [name, list] of a.lists) {
    if (list.includes('')) throw new ModelError('badInput', `--${name} needs a value.\n\n${USAGE}`);
  }
  const n = a.values.has('parallel') ? Number(a.values.get('parallel')) : undefined;
  if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 8)) throw new ModelError('badInput', '--parallel must be a whole number from 1 to 8.');
  const store = a.values.get('store');
  const source = a.values.get('source') ?? 'huggingface';
  if (!(MODEL_SOURCES as readonly string[]).includes(source)) {
    throw new ModelError('badInput', `--source must be ${MODEL_SOURCES.join(' or ')}, not "${source}".`);
  }
  return {
    positional: a.positionals,
    store: store === undefined ? undefined : path.resolve(store),
    endpoint: a.values.get('endpoint'),
    proxy: a.values.get('proxy'),
    source: source as ModelSourceName,
    parallel: n,
    include: a.lists.get('include') ?? [],
    exclude: a.lists.get('exclude') ?? [],
    base: a.values.get('base'),
    name: a.values.get('name'),
  };
}

/**
 * Writes `value` as JSON on stdout. JSON.stringify escapes C0 controls but leaves DEL, C1 and
 * bidi overrides raw; escaped too, as they can only occur inside strings the result stays JSON.
 */
function json(io: ModelsIo, value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  io.stdout.write(`${redact(text)}\n`);
}

/**
 * Writes a message on stderr. Messages quote servers, file names and settings: credentials are
 * hidden and control characters shown as escapes, so nothing received can drive the terminal.
 */
function say(io: ModelsIo, text: string): void {
  io.stderr.write(printable(redact(text), true));
}

/** Progress lines: one updating line on a terminal, a line every few seconds otherwise. */
function progressPrinter(io: ModelsIo): { onProgress(p: PullProgress): void; end(): void } {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let lastLine = 0;
  let drawn = false;
  const clear = (): void => {
    if (tty && drawn) io.stderr.write('\r\x1b[K');
    drawn = false;
  };
  return {
    onProgress(p) {
      if (p.message) {
        clear();
        say(io, `${p.message}\n`);
      }
      if (p.phase !== 'downloading' && p.phase !== 'verifying') return;
      const now = Date.now();
      // One line, whatever it quotes: our own \r and erase-line are the only controls in it.
      const line = printable(redact(`${p.id}: ${formatProgress({ operationId: '', ...p } as ModelsProgress)} (${p.filesDone}/${p.filesTotal} files)`));
      if (tty) {
        if (now - lastLine < 200) return;
        io.stderr.write(`\r\x1b[K${line}`);
        drawn = true;
      } else {
        if (now - lastLine < 5000) return;
        io.stderr.write(`${line}\n`);
      }
      lastLine = now;
    },
    end: clear,
  };
}

async function pull(p: Parsed, io: ModelsIo, store: string): Promise<number> {
  if (p.positional.length !== 1) throw new ModelError('badInput', `models pull needs one model id or repo.\n\n${USAGE}`);
  const target = resolveModelSpec(p.positional[0], {
    include: p.include.length ? p.include : undefined,
    exclude: p.exclude.length ? p.exclude : undefined,
    source: p.source,
  });
  const hub = sourceClient({ source: p.source, endpoint: p.endpoint, hubToken: hubTokenFromEnv(), proxy: p.proxy });
  const ac = new AbortController();
  const onSigint = (): void => {
    say(io, '\nCancelling (the part already downloaded is kept)...\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  const printer = progressPrinter(io);
  say(io, `Pulling ${target.title} from ${hub.endpoint}${hub.source === 'modelscope' ? '/models' : ''}/${target.repo} (${target.revision}) into ${store}\n`);
  try {
    const r = await pullModel({ store, target, hub, parallel: p.parallel, signal: ac.signal, onProgress: printer.onProgress });
    printer.end();
    say(
      io,
      r.alreadyInstalled
        ? `${r.model.id} is already installed in ${r.model.path}\n`
        : `Installed ${r.model.id} (${formatBytes(r.model.bytes)}, ${r.model.files} files, commit ${r.model.commit.slice(0, 10)}) in ${r.model.path} after ${formatDurationWords(r.elapsedMs) || '0 s'}\n`,
    );
    json(io, r);
    return 0;
  } finally {
    printer.end();
    process.removeListener('SIGINT', onSigint);
  }
}

/** `models import FILE`: progress on stderr (a line per component, then every few seconds), the summary on stdout. */
async function importCommand(p: Parsed, io: ModelsIo, store: string): Promise<number> {
  if (p.positional.length !== 1) throw new ModelError('badInput', `models import needs one .safetensors file.\n\n${USAGE}`);
  const ac = new AbortController();
  const onSigint = (): void => {
    say(io, '\nCancelling (nothing is installed; the staging folder is removed)...\n');
    ac.abort();
  };
  process.once('SIGINT', onSigint);
  let last = 0;
  let component = '';
  const onProgress = (pr: ImportProgress): void => {
    if (pr.message) say(io, `${pr.message}\n`);
    const now = Date.now();
    if (pr.stage === 'converting' && pr.component === component && now - last < 5000 && pr.tensorsDone < pr.tensorsTotal) return;
    if (pr.stage === 'converting') component = pr.component ?? '';
    last = now;
    say(io, `${pr.id}: ${pr.stage}${pr.component ? ` ${pr.component}` : ''} (${pr.tensorsDone}/${pr.tensorsTotal} tensors, ${formatBytes(pr.bytesDone)} of ${formatBytes(pr.bytesTotal)})\n`);
  };
  try {
    const r = await importCheckpoint({ file: p.positional[0], store, base: p.base, name: p.name, signal: ac.signal, onProgress });
    for (const line of r.verified) say(io, `  checked ${line}\n`);
    say(io, `Installed ${r.model.id} (${formatBytes(r.model.bytes)}, ${r.tensors} tensors; ${r.ignoredTensors} checkpoint tensors not needed) in ${r.model.path} after ${formatDurationWords(r.elapsedMs) || '0 s'}\n`);
    say(io, `Use it: course-illustrator generate --model ${r.model.path} --prompt "..."\n`);
    json(io, r);
    return 0;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export async function runModelsCommand(args: string[], io: ModelsIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    const p = parseModelsArgs(rest, command ?? '');
    const store = p.store ?? defaultStoreDir();
    switch (command) {
      case 'list': {
        const installed = await listInstalled(store);
        const partial = await listPartial(store);
        const cat = catalogue();
        say(io, `Model store: ${store}\n`);
        for (const e of cat) {
          const have = installed.find((m) => m.id === e.id);
          say(
            io,
            `  ${have ? '*' : ' '} ${e.id.padEnd(26)} ${e.title} (${have ? `${installedSize(have)}, commit ${have.commit.slice(0, 10)}` : `~${formatBytes(e.approxBytes)}`})${e.default ? ' [default]' : ''}\n`,
          );
        }
        for (const m of installed.filter((m) => !cat.some((e) => e.id === m.id))) {
          say(io, `  * ${m.id.padEnd(26)} ${m.title} (${installedSize(m)}, commit ${m.commit.slice(0, 10)})\n`);
        }
        for (const d of partial) say(io, `  partial: ${d.id} ${formatBytes(d.bytesDone)} of ${formatBytes(d.bytesTotal)} (pull it again to resume)\n`);
        json(io, { store, installed, partial, catalogue: cat });
        return 0;
      }
      case 'pull':
        return await pull(p, io, store);
      case 'verify': {
        if (p.positional.length !== 1) throw new ModelError('badInput', `models verify needs one model id.\n\n${USAGE}`);
        const r = await verifyModel(store, p.positional[0]);
        say(io, r.ok ? `${r.id}: all ${r.files} files verified\n` : `${r.id}: ${r.problems.length} problem(s):\n${r.problems.map((x) => `  ${x}\n`).join('')}Remove it and pull it again.\n`);
        json(io, r);
        return r.ok ? 0 : 1;
      }
      case 'import':
        return await importCommand(p, io, store);
      case 'remove': {
        if (p.positional.length !== 1) throw new ModelError('badInput', `models remove needs one model id.\n\n${USAGE}`);
        const r = await removeModel(store, p.positional[0]);
        say(io, r.removed ? `Removed ${r.path}\n` : `Nothing to remove: no model "${r.id}" in ${store}\n`);
        json(io, r);
        return 0;
      }
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new ModelError('badInput', `Unknown models command "${command}".\n\n${USAGE}`);
    }
  } catch (err) {
    const e = err instanceof EngineError ? err : new ModelError('io', err instanceof Error ? err.message : String(err));
    const code = e instanceof ModelError ? e.code : e.kind;
    say(io, `course-illustrator models: ${e.message}\n`);
    json(io, { error: { code, message: e.message } });
    return exitCode(e);
  }
}

/** "4.3 GB", or "4.3 GB + 1.4 GB prepared for this computer" once the engine has stored its Winograd weights beside the files. */
function installedSize(m: InstalledModel): string {
  return m.preparedBytes ? `${formatBytes(m.bytes)} + ${formatBytes(m.preparedBytes)} prepared for this computer` : formatBytes(m.bytes);
}
