// The options of `course-illustrator serve --model DIR ...`: the A1111-compatible HTTP API.
// Parsed with the CLI's own parser, so unknown options are errors that list the known ones.

import * as path from 'path';
import { PROVIDER_NAMES, ProviderName, type UnetWeights } from '../../core/protocol';
import { numberArg, parseArgs, unetWeightsFromFlags } from '../cliArgs';
import { badInput } from '../errors';

export interface ServeOptions {
  model: string;
  host: string;
  port: number;
  /** A file of `user:password` entries (lines or commas), as A1111's --api-auth. */
  authFile?: string;
  /** Jobs that may wait behind the running one; more get 429. */
  maxQueue: number;
  /** Exact origin allowed to call from a browser; no CORS headers without it. */
  corsOrigin?: string;
  provider?: ProviderName;
  threads?: number;
  /** Longest a request may wait and run, queue included. */
  requestTimeoutMs: number;
  lowMemory: boolean;
  unetWeights?: UnetWeights;
  /** Folders where `<lora:NAME>` in a prompt finds NAME.safetensors (the server's, never a client's). */
  loraDirs?: string[];
}

export const DEFAULT_LISTEN = '127.0.0.1:7860';
export const DEFAULT_MAX_QUEUE = 16;
/** An hour: 16 queued SD v1.5 images on a school laptop's CPU take about that long. */
export const DEFAULT_REQUEST_TIMEOUT_S = 3600;

export function parseServeArgs(argv: string[]): ServeOptions {
  const args = parseArgs(argv, {
    values: ['model', 'listen', 'api-auth', 'max-queue', 'cors-origin', 'provider', 'threads', 'request-timeout', 'lora-dir'],
    flags: ['low-memory', 'compact', 'int8'],
  }, 'serve');
  const model = args.values.get('model');
  if (!model) throw badInput('serve needs --model DIR: a Stable Diffusion folder in the diffusers ONNX layout (see "course-illustrator models list").');
  if (args.positionals.length > 0) throw badInput(`serve takes no positional arguments, got "${args.positionals[0]}".`);
  const { host, port } = parseListen(args.values.get('listen') ?? DEFAULT_LISTEN);
  const maxQueue = numberArg(args, 'max-queue', true) ?? DEFAULT_MAX_QUEUE;
  if (maxQueue < 0 || maxQueue > 1000) throw badInput(`--max-queue must be from 0 to 1000 (jobs waiting behind the running one), got ${maxQueue}.`);
  const provider = args.values.get('provider');
  if (provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw badInput(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${provider}".`);
  }
  const threads = numberArg(args, 'threads', true);
  if (threads !== undefined && (threads < 1 || threads > 1024)) throw badInput(`--threads must be from 1 to 1024, got ${threads}.`);
  const timeoutS = numberArg(args, 'request-timeout', false) ?? DEFAULT_REQUEST_TIMEOUT_S;
  if (!(timeoutS > 0 && timeoutS <= 7 * 24 * 3600)) throw badInput(`--request-timeout must be a number of seconds above 0, got ${timeoutS}.`);
  const corsOrigin = args.values.get('cors-origin');
  if (corsOrigin !== undefined && corsOrigin !== '*' && !/^https?:\/\/[^/\s]+$/.test(corsOrigin)) {
    throw badInput(`--cors-origin must be an origin such as https://school.example:8443 (scheme, host and port, no path) or *, got "${corsOrigin}".`);
  }
  const authFile = args.values.get('api-auth');
  return {
    model: path.resolve(model),
    host,
    port,
    authFile: authFile ? path.resolve(authFile) : undefined,
    maxQueue,
    corsOrigin,
    provider: provider as ProviderName | undefined,
    threads,
    requestTimeoutMs: Math.round(timeoutS * 1000),
    lowMemory: args.flags.has('low-memory'),
    unetWeights: unetWeightsFromFlags(args.flags),
    loraDirs: args.lists.get('lora-dir')?.map((d) => path.resolve(d)),
  };
}

/** `HOST:PORT`, `[IPv6]:PORT`, `:PORT` (all interfaces, as A1111's --listen) or `PORT` (loopback). */
export function parseListen(text: string): { host: string; port: number } {
  let host: string;
  let portText: string;
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  if (v6) [, host, portText] = v6;
  else if (/^\d+$/.test(text)) [host, portText] = ['127.0.0.1', text];
  else {
    const i = text.lastIndexOf(':');
    if (i < 0 || text.indexOf(':') !== i) throw badInput(`--listen must be HOST:PORT (e.g. 127.0.0.1:7860, 0.0.0.0:7860 or [::1]:7860), got "${text}".`);
    host = text.slice(0, i) || '0.0.0.0';
    portText = text.slice(i + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw badInput(`--listen port must be from 0 to 65535, got "${portText}".`);
  return { host, port };
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}
