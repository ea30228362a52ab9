// One ONNX model file as an onnxruntime session, with its declared inputs and outputs, feeds
// checked before they reach ORT, and errors that name the file, the input, and the fix.

import { promises as fs, readFileSync } from 'fs';
import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../../core/protocol';
import { CancelledError, EngineError } from '../errors';
import { PROVIDER_HINT, PROVIDER_LABEL, ResolvedProvider, resolveProvider, sessionOptions } from './backend';
import * as path from 'path';
import { compactGraph, CompactOptions } from './graph/compactGraph';
import { ConvolutionPlanName, fileGraph, PreparedGraph, prepareGraph } from './graph/prepareGraph';
import { GraphSplit } from './graph/splitGraph';
import { externalDataRefs } from '../modelFolder/externalData';
import { PartedSession, SessionLike } from './partedSession';

/** An input or output as the model declares it. dims: numbers are fixed, strings symbolic ("batch"), '?' unknown. */
export interface IoInfo {
  name: string;
  /** ORT's element type: 'float32', 'float16' (fp16 exports), 'int64', 'int32', ...; 'non-tensor' for maps/sequences. */
  type: string;
  dims: (number | string)[];
}

export interface ModelSessionOptions {
  provider: ProviderName;
  /** Intra-op threads; 0: physical cores. */
  threads: number;
  /** Shown in errors and logs, e.g. "unet". */
  label: string;
  /** Only reading the metadata (`info`): skip graph optimisation, which is slow for a full UNet. */
  inspectOnly?: boolean;
  /** False: run the file's graph as it is, without the rewrites of graph/prepareGraph. */
  rewrite?: boolean;
  /** An 8-bit variant (graph/compactGraph: 'compact' MatMul weights, or 'int8' convolutions too), on the CPU. */
  compact?: CompactOptions;
  /** Faster convolutions on the CPU, as graph/prepareGraph.ts plans them for this graph: up to 0.6 GB more memory while the session lives. */
  convolutions?: ConvolutionPlanName;
  /** Told how far the first preparation of the graph for this computer has got (the Winograd weights, made once per model). */
  preparing?: (done: number, total: number) => void;
  /** Small weights (the VAE's): optimised fully on the CPU too (backend.sessionOptions). */
  smallWeights?: boolean;
  /**
   * Low memory: the graph cut into parts of about this many bytes of weights, each loaded only
   * while it runs (partedSession.ts); on the CPU, when the graph can be cut.
   */
  partBytes?: number;
  /** A rewrite of the file's graph made by its caller (the VAE encoder's), run instead of it, weights from the file's folder. */
  graph?: { bytes: Uint8Array | string; notes: string[] };
}

/** Providers that failed to start in this process, with the warning given then. */
const providerFailures = new Map<ProviderName, string>();

export class ModelSession {
  /** Total milliseconds spent inside session.run (for the benchmark's overhead ratio). */
  runMs = 0;
  readonly inputs: IoInfo[];
  readonly outputs: IoInfo[];
  private session: SessionLike | undefined;

  private constructor(
    readonly file: string,
    readonly label: string,
    session: SessionLike,
    /** The provider actually running this session. */
    readonly provider: ProviderName,
    /** Set when the requested provider could not be used (then provider is 'cpu'). */
    readonly warning: string | undefined,
    /** How the graph was rewritten before onnxruntime got it (empty: run as the file has it). */
    readonly notes: string[],
  ) {
    this.session = session;
    this.inputs = describe(session.inputMetadata, session.inputNames);
    this.outputs = describe(session.outputMetadata, session.outputNames);
  }

  static async create(file: string, opts: ModelSessionOptions): Promise<ModelSession> {
    let size: number;
    try {
      const st = await fs.stat(file);
      if (!st.isFile()) throw new EngineError('modelError', `${file} is not a file: point at a folder in the diffusers ONNX layout, whose components hold model.onnx files.`);
      size = st.size;
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError('modelError', `${file} is missing: the model folder is incomplete; download the model again.`);
    }
    const resolved = resolveProvider(opts.provider);
    let warning = resolved.warning;
    if (resolved.provider !== 'cpu' && providerFailures.has(resolved.provider)) {
      warning = providerFailures.get(resolved.provider);
    } else {
      try {
        return await ModelSession.open(file, resolved, opts, warning);
      } catch (err) {
        if (err instanceof CancelledError) throw err;
        if (resolved.provider === 'cpu' || isFileProblem(err)) throw loadError(file, size, err);
        // The provider exists but would not start (no adapter, driver, library): the CPU always can.
        warning =
          `${PROVIDER_LABEL[resolved.provider]} could not start (${ortReason(err)}); running on the CPU. ` +
          PROVIDER_HINT[resolved.provider];
        // An adapter or driver does not appear during a process's life: later sessions go straight to the CPU.
        providerFailures.set(resolved.provider, warning);
      }
    }
    try {
      return await ModelSession.open(file, { provider: 'cpu', executionProviders: ['cpu'] }, opts, warning);
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      throw loadError(file, size, err);
    }
  }

  /** A session on `resolved`, from the rewritten graph when there is one, else from the file. */
  private static async open(file: string, resolved: ResolvedProvider, opts: ModelSessionOptions, warning: string | undefined): Promise<ModelSession> {
    const options = sessionOptions(resolved, opts.threads, opts.label, { optimize: !opts.inspectOnly, smallWeights: opts.smallWeights });
    let prepared: PreparedGraph | undefined = opts.graph && { ...opts.graph, externalDataFolder: path.dirname(path.resolve(file)) };
    const variant = opts.compact;
    if (!prepared && !opts.inspectOnly && variant && resolved.provider === 'cpu') {
      prepared = await compactGraph(file, variant).then(
        (c) => c && { bytes: c.file, externalDataFolder: path.dirname(path.resolve(file)), notes: c.notes },
        (err: unknown) => {
          // A job cancelled while the variant was being made is cancelled, not run at full precision.
          if (err instanceof CancelledError) throw err;
          warning = [warning, `The ${variant.level ?? 'compact'} variant of ${opts.label} could not be made (${firstLine(err)}); it runs at full precision.`].filter(Boolean).join(' ');
          return undefined;
        },
      );
    }
    if (!prepared && !opts.inspectOnly && opts.rewrite !== false) prepared = await prepareGraph(file, resolved.provider, { convolutions: opts.convolutions, preparing: opts.preparing, foldAtLoad: !opts.partBytes }).catch(() => undefined);
    // Nothing to rewrite, but a graph to cut into parts.
    if (!prepared && !opts.inspectOnly && opts.partBytes && resolved.provider === 'cpu') prepared = await fileGraph(file).catch(() => undefined);
    if (prepared) {
      try {
        const extra = { ...(options.extra as Record<string, string>), 'session.model_external_initializers_file_folder_path': prepared.externalDataFolder };
        const inMemory = typeof prepared.bytes === 'string' ? undefined : prepared.bytes;
        const split = opts.partBytes && resolved.provider === 'cpu' && inMemory ? GraphSplit.plan(inMemory, opts.partBytes) : undefined;
        if (split && inMemory) {
          // No part is loaded until the first run: a missing or cut-short weights file must fail
          // here, as loading the whole graph would (the file's own load below names it).
          for (const ref of externalDataRefs(inMemory)) {
            if ((await fs.stat(path.join(prepared.externalDataFolder, ref.location))).size < ref.bytesNeeded) throw new Error(`${ref.location} is cut short`);
          }
          // Packed weights would be copied anew for every part of every step: they stay mapped.
          const parted = new PartedSession(split, { ...options, extra: { ...extra, 'session.disable_prepacking': '1' } });
          const gb = (b: number) => (b / 1e9).toFixed(2);
          const sizes = split.parts.map((p) => gb(p.weightBytes)).join(' + ');
          return new ModelSession(file, opts.label, parted, resolved.provider, warning, [...prepared.notes, `run in ${split.parts.length} parts (${sizes} GB of weights), one loaded at a time`]);
        }
        // (Two overloads of create: a path or bytes.)
        const s = typeof prepared.bytes === 'string'
          ? await ort.InferenceSession.create(prepared.bytes, { ...options, extra })
          : await ort.InferenceSession.create(prepared.bytes, { ...options, extra });
        return new ModelSession(file, opts.label, s, resolved.provider, warning, prepared.notes);
      } catch (err) {
        // A caller's rewrite changes what the graph computes (the VAE encoder's mean and std
        // instead of an unseeded sample): the file's own graph is no substitute.
        if (opts.graph) throw err;
        // Ours only make it cheaper: the file's own graph still runs, and if the file itself is
        // broken, loading it gives the error that says how.
      }
    }
    const s = await ort.InferenceSession.create(file, options);
    return new ModelSession(file, opts.label, s, resolved.provider, warning, []);
  }

  /** How many parts the graph runs in, one loaded at a time (ModelSessionOptions.partBytes); 1: whole. */
  get parts(): number {
    return this.session instanceof PartedSession ? this.session.partCount : 1;
  }

  input(name: string): IoInfo | undefined {
    return this.inputs.find((i) => i.name === name);
  }

  output(name: string): IoInfo | undefined {
    return this.outputs.find((o) => o.name === name);
  }

  /** True when any input or output is float16 (an fp16 export: feed it with float32ToFloat16). */
  get usesFloat16(): boolean {
    return [...this.inputs, ...this.outputs].some((io) => io.type === 'float16');
  }

  /**
   * Runs the model. Feeds are checked against the declared inputs first (names, dtypes, ranks,
   * fixed dims); `outputNames` limits the outputs computed.
   */
  async run(feeds: Record<string, ort.Tensor>, outputNames?: string[]): Promise<Record<string, ort.Tensor>> {
    const out = await this.runChecked(feeds, outputNames);
    this.onOutputs?.(out);
    return out;
  }

  /** Sees every run's outputs, those its caller does not take included (the int8 variant's calibration). */
  onOutputs: ((out: Record<string, ort.Tensor>) => void) | undefined;

  private async runChecked(feeds: Record<string, ort.Tensor>, outputNames?: string[]): Promise<Record<string, ort.Tensor>> {
    const session = this.session;
    if (!session) throw new Error(`${this.label} session (${this.file}) was already disposed`);
    const problems = this.check(feeds);
    if (problems.length) {
      throw new EngineError(
        'modelError',
        `${this.label} (${this.file}) cannot take these inputs: ${problems.join('; ')}. ` +
          `It expects ${formatList(this.inputs)}; it was given ${formatFeeds(feeds)}.`,
      );
    }
    const t0 = performance.now();
    try {
      return (await session.run(feeds, outputNames ?? [...session.outputNames])) as Record<string, ort.Tensor>;
    } catch (err) {
      throw new EngineError(
        'modelError',
        `${this.label} (${this.file}) failed while running: ${firstLine(err)}. ` +
          `It was given ${formatFeeds(feeds)}; it expects ${formatList(this.inputs)}.`,
      );
    } finally {
      this.runMs += performance.now() - t0;
    }
  }

  async dispose(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (s) await s.release();
  }

  private check(feeds: Record<string, ort.Tensor>): string[] {
    const problems: string[] = [];
    for (const name of Object.keys(feeds)) {
      if (!this.input(name)) problems.push(`"${name}" is not an input of this model`);
    }
    for (const io of this.inputs) {
      const t = feeds[io.name];
      if (!t) {
        problems.push(`input "${io.name}" (${format(io.type, io.dims)}) is missing`);
        continue;
      }
      if (io.type === 'non-tensor') continue;
      const want = format(io.type, io.dims);
      const got = format(t.type, t.dims);
      if (t.type !== io.type) {
        problems.push(`input "${io.name}" must be ${want}, got ${got} (wrong element type)`);
      } else if (t.dims.length !== io.dims.length) {
        problems.push(`input "${io.name}" must be ${want}, got ${got} (rank ${t.dims.length} instead of ${io.dims.length})`);
      } else {
        const bad = io.dims.findIndex((d, i) => typeof d === 'number' && d > 0 && t.dims[i] !== d);
        if (bad >= 0) problems.push(`input "${io.name}" must be ${want}, got ${got} (dimension ${bad} must be ${io.dims[bad]})`);
      }
    }
    return problems;
  }
}

function describe(meta: readonly ort.InferenceSession.ValueMetadata[] | undefined, names: readonly string[]): IoInfo[] {
  // onnxruntime-node before 1.22 had names only.
  if (!meta) return names.map((name) => ({ name, type: 'non-tensor', dims: [] }));
  return meta.map((m) => {
    if (!m.isTensor) return { name: m.name, type: 'non-tensor', dims: [] };
    const dims = m.shape.map((d) => (typeof d === 'number' ? (d >= 0 ? d : '?') : d === '' ? '?' : d));
    return { name: m.name, type: m.type, dims };
  });
}

function format(type: string, dims: readonly (number | string)[]): string {
  return `${type} [${dims.join(', ')}]`;
}

function formatList(list: IoInfo[]): string {
  return list.map((io) => `${io.name}: ${format(io.type, io.dims)}`).join(', ');
}

function formatFeeds(feeds: Record<string, ort.Tensor>): string {
  const parts = Object.entries(feeds).map(([name, t]) => `${name}: ${format(t.type, t.dims)}`);
  return parts.length ? parts.join(', ') : 'no inputs';
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function firstLine(err: unknown): string {
  const m = message(err).split('\n')[0].trim();
  return m.length > 400 ? m.slice(0, 400) + '…' : m;
}

/** ORT's message without its source location and the C++ condition that failed. */
function ortReason(err: unknown): string {
  return firstLine(err)
    .replace(/^.*? was false\.\s*/, '')
    .replace(/^\S*onnxruntime_src\S*:\d+\s+/, '')
    .replace(/^\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*\w+\s*:\s*/, '');
}

/** Errors about the file itself: retrying on another provider cannot help. */
function isFileProblem(err: unknown): boolean {
  return /Protobuf parsing failed|does not have a graph|External data|out of bounds or can not be read|No such file|File doesn't exist/i.test(
    message(err),
  );
}

function looksLikeLfsPointer(file: string, size: number): boolean {
  if (size > 1024) return false;
  try {
    return readFileSync(file, 'latin1').startsWith('version https://git-lfs.github.com/spec/');
  } catch {
    return false;
  }
}

/** An ORT load failure as a message that says which file is broken and how to fix it. */
function loadError(file: string, size: number, err: unknown): EngineError {
  const m = message(err);
  const missingData = /External data path does not exist:\s*"?([^"\n]+)"?/.exec(m);
  if (missingData) {
    return new EngineError(
      'modelError',
      `${missingData[1]} is missing: ${file} keeps its weights in that file (external data). The model folder is incomplete; download the model again.`,
    );
  }
  if (/out of bounds or can not be read in full/.test(m)) {
    return new EngineError(
      'modelError',
      `The external weights of ${file} are cut short (${firstLine(err)}): the download was probably interrupted; download the model again.`,
    );
  }
  if (/Protobuf parsing failed|does not have a graph/.test(m)) {
    if (looksLikeLfsPointer(file, size)) {
      return new EngineError(
        'modelError',
        `${file} is a Git LFS pointer, not the model: the repository was cloned without Git LFS. Run \`git lfs install && git lfs pull\` in the model folder, or download the model again.`,
      );
    }
    return new EngineError(
      'modelError',
      `${file} (${size} bytes) is not a valid ONNX model: the file is corrupt or was only partly downloaded; download the model again.`,
    );
  }
  return new EngineError('modelError', `Cannot load ${file}: ${firstLine(err)}. If the file is damaged, download the model again.`);
}
