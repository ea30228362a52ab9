// The CLI's entry for the child-process tests, run through tsx: `serve` with options reaches the
// CLI's HTTP server here whatever src/engine/main.ts does with a bare `serve` (JSON-RPC on stdio).

import { runCli } from '../../../src/engine/cli';

runCli(process.argv.slice(2), process).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  },
);
