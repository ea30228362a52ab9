// Entry point of the engine bundle: `serve` speaks JSON-RPC on stdio for the extension;
// anything else is the command line.

import { startServer } from './server';
import { runCli } from './cli';

function main(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === 'serve') {
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
