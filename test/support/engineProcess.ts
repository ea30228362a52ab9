// Drives the real engine bundle (dist/engine.js) as a user or the extension would: the CLI in a
// child process, or `serve` over JSON-RPC on stdio.

import { spawn, ChildProcess } from 'child_process';
import * as path from 'path';
import {
  createMessageConnection, StreamMessageReader, StreamMessageWriter, MessageConnection,
} from 'vscode-jsonrpc/node';
import { repoRoot } from '../fixtures/tinyPipeline';

let built: Promise<string> | undefined;

/** Builds dist/engine.js once per test run with the project's own esbuild script. */
export function engineBundle(): Promise<string> {
  built ??= new Promise<string>((resolve, reject) => {
    const root = repoRoot();
    const p = spawn(process.execPath, ['esbuild.js'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve(path.join(root, 'dist', 'engine.js')) : reject(new Error(`esbuild.js exited ${code}`))));
  });
  return built;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; onStderr?: (s: string, p: ChildProcess) => void } = {}): Promise<CliResult> {
  const bundle = await engineBundle();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [bundle, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => {
      stderr += d;
      opts.onStderr?.(String(d), p);
    });
    p.on('error', reject);
    p.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

export interface EngineServer {
  connection: MessageConnection;
  process: ChildProcess;
  stderr: () => string;
  close(): Promise<void>;
}

export async function startServer(): Promise<EngineServer> {
  const bundle = await engineBundle();
  const p = spawn(process.execPath, [bundle, 'serve', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  const connection = createMessageConnection(new StreamMessageReader(p.stdout!), new StreamMessageWriter(p.stdin!));
  connection.listen();
  return {
    connection,
    process: p,
    stderr: () => stderr,
    async close() {
      connection.dispose();
      if (p.exitCode === null && p.signalCode === null) {
        const exited = new Promise((r) => p.once('exit', r));
        p.kill();
        await exited;
      }
    },
  };
}
