// `course-illustrator serve --model DIR ...`: AUTOMATIC1111's web API (/sdapi/v1/) for a school's
// machine, until SIGINT or SIGTERM, then a clean stop (exit status 0).

import * as path from 'path';
import type { Io } from '../cliEngine';
import { startHttpServer } from './httpServer';
import { isLoopback, parseServeArgs } from './serveArgs';

export async function runServeCommand(argv: string[], io: Io): Promise<number> {
  const o = parseServeArgs(argv);
  if (!isLoopback(o.host) && !o.authFile) {
    io.stderr.write(`warning: listening on ${o.host}, which other machines can reach, without --api-auth: anyone on the network can ` +
      'use this server. Add --api-auth FILE (user:password lines), or listen on 127.0.0.1.\n');
  }
  const server = await startHttpServer({ ...o, log: (line) => io.stderr.write(`${line}\n`) });
  io.stderr.write(`course-illustrator serve: listening on ${server.url}/sdapi/v1/ (model ${path.basename(o.model)}, ` +
    `${o.maxQueue} may wait${o.authFile ? ', Basic auth' : ''}${o.corsOrigin ? `, CORS for ${o.corsOrigin}` : ''}). Ctrl+C stops.\n` +
    `private folder for uploads and images: ${server.tempRoot} (removed on exit)\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      // Once: a second Ctrl+C finds no handler and ends the process at once, as usual.
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(sig);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  io.stderr.write(`${signal}: stopping (queued requests get 503, the running job is cancelled)…\n`);
  await server.close();
  io.stderr.write('stopped.\n');
  return 0;
}
