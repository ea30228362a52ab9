// What every engine subcommand shares (cli.ts, bench.ts, benchBaseline.ts, serve): where its
// output goes, and the engine its runtime options describe. Kept out of cli.ts, which imports the
// subcommands, so that none of them imports it back.

import { PROVIDER_NAMES, type ProviderName } from '../core/protocol';
import { type ParsedArgs, numberArg, unetWeightsFromFlags } from './cliArgs';
import { Engine } from './engine';
import { badInput } from './errors';

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export function engineFromArgs(args: ParsedArgs): Engine {
  const provider = args.values.get('provider');
  if (provider !== undefined && !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw badInput(`--provider must be one of ${PROVIDER_NAMES.join(', ')}, got "${provider}".`);
  }
  const threads = numberArg(args, 'threads', true);
  if (threads !== undefined && (threads < 1 || threads > 1024)) throw badInput(`--threads must be from 1 to 1024, got ${threads}.`);
  return new Engine({
    provider: provider as ProviderName | undefined,
    threads,
    lowMemory: args.flags.has('low-memory'),
    keepSessions: args.flags.has('keep-sessions') ? true : undefined,
    unetWeights: unetWeightsFromFlags(args.flags),
  });
}

