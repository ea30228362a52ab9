// Entry point of the engine bundle: `serve --stdio` speaks JSON-RPC on stdio for the extension
// (as language servers are started); anything else is the command line, `serve` with options
// included (the A1111 web API).

import { startServer } from './server';
import { runCli } from './cli';

function main(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === 'serve' && argv[1] === '--stdio' && argv.length === 2) {
    startServer();
    return;
  }
  runCli(argv, process).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

main();
