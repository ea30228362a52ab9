// The engine child process: spawned on first use, asked for engine/initialize, shut down when idle
// or when its settings change, and killed when it will not go. When it dies every call still
// pending on it fails with a message that says why; the next use starts a new one.

import * as cp from 'child_process';
import * as fs from 'fs';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection, type MessageConnection } from 'vscode-jsonrpc/node';
import * as l10n from '@vscode/l10n';
import type { EngineOptions, StatusResult } from '../../core/protocol';
import { EngineNotifications, EngineRequests } from '../../core/engineRequests';
import { PROTOCOL_VERSION } from '../../core/protocol';
import type { Log } from '../services';
import { type CallTarget, TimeoutError, send, withTimeout } from './engineCall';
import { EngineError, fromReplyError, isEngineError } from './engineError';

export interface EngineProcessConfig {
  /** Absolute path of dist/engine.js. */
  enginePath: string;
  /** Node binary; in the extension host: process.execPath with ELECTRON_RUN_AS_NODE=1. */
  nodePath?: string;
  env?: NodeJS.ProcessEnv;
  /** Read at each engine start, so setting changes apply to the next engine. */
  engineOptions: () => EngineOptions;
  /** Milliseconds without requests before the engine exits; 0: never. Read at each idle. */
  idleTimeoutMs: () => number;
  log: Log;
  /** A reason when the engine must not run now (Restricted Mode); checked on every request. */
  refuse?: () => string | undefined;
  /** Injected for tests; default child_process.spawn. */
  spawn?: typeof cp.spawn;
}

export interface Engine extends CallTarget {
  readonly child: cp.ChildProcess;
  readonly connection: MessageConnection;
  readonly ready: Promise<StatusResult>;
  readonly exited: Promise<void>;
  /** Rejects everything still pending on this engine. */
  failAll(error: EngineError): void;
  stopping: boolean;
}

export class EngineProcess {
  private engine: Engine | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private busy = 0;
  private disposed = false;
  private restartWhenIdle = false;

  constructor(
    private readonly config: EngineProcessConfig,
    private readonly timeouts: { start: number; shutdown: number },
    /** Registers handlers on each new engine's connection before it starts listening. */
    private readonly onConnection: (connection: MessageConnection) => void,
  ) {}

  get pid(): number | undefined {
    return this.engine?.child.pid;
  }

  /** The engine now, if one was started and has not gone away. */
  get current(): Engine | undefined {
    return this.engine;
  }

  /** Runs `fn` on a ready engine (started if needed); the idle timer waits while any run. */
  async use<T>(fn: (engine: Engine) => Promise<T>): Promise<T> {
    if (this.disposed) throw new EngineError('cancelled', l10n.t('The extension is shutting down.'));
    const refusal = this.config.refuse?.();
    if (refusal) throw new EngineError('restricted', refusal);
    this.busy++;
    this.clearIdle();
    try {
      const engine = this.engine ?? (this.engine = this.start());
      await engine.ready;
      return await fn(engine);
    } finally {
      this.busy--;
      if (this.busy === 0) this.whenIdle();
    }
  }

  /** Stops `engine` unless it has already been replaced or stopped. */
  stopIfCurrent(engine: Engine, reason?: string): void {
    if (this.engine === engine) void this.stop(reason);
  }

  /** Stops the engine after the running requests (for setting changes that need a new process). */
  restartWhenIdleAgain(): void {
    if (!this.engine) return;
    if (this.busy === 0) void this.stop();
    else this.restartWhenIdle = true;
  }

  async stop(reason = l10n.t('The engine was stopped; run the job again.')): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.clearIdle();
    engine.stopping = true;
    this.engine = undefined;
    engine.failAll(new EngineError('crashed', reason));
    try {
      await withTimeout(send(engine.connection, EngineRequests.shutdown, {}), this.timeouts.shutdown, 'shutdown');
    } catch {
      // it may already be gone; the kill below makes sure
    }
    const exited = await Promise.race([engine.exited.then(() => true), delay(this.timeouts.shutdown).then(() => false)]);
    if (!exited) engine.child.kill('SIGKILL');
    engine.connection.dispose();
    this.config.log.info(`engine ${engine.child.pid} stopped`);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearIdle();
    const engine = this.engine;
    this.engine = undefined;
    if (engine) {
      engine.stopping = true;
      engine.failAll(new EngineError('cancelled', l10n.t('The extension is shutting down.')));
      try {
        engine.connection.dispose();
      } catch {
        // already closed
      }
      engine.child.kill('SIGKILL');
    }
  }

  private whenIdle(): void {
    if (!this.engine) return;
    if (this.restartWhenIdle) {
      this.restartWhenIdle = false;
      this.config.log.info('engine settings changed: the next job starts a new engine');
      void this.stop();
      return;
    }
    const ms = this.config.idleTimeoutMs();
    if (ms <= 0) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.busy === 0 && this.engine) {
        this.config.log.info(`engine idle for ${Math.round(ms / 1000)} s: stopping it to free memory`);
        void this.stop();
      }
    }, ms);
    this.idleTimer.unref?.();
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private start(): Engine {
    const { log } = this.config;
    const started = Date.now();
    const spawn = this.config.spawn ?? cp.spawn;
    if (!this.config.spawn && !fs.existsSync(this.config.enginePath)) {
      const error = new EngineError('crashed', l10n.t('The engine bundle {0} is missing: build it with "node esbuild.js" (or reinstall the extension).', this.config.enginePath));
      log.error(error.message);
      throw error;
    }
    const nodePath = this.config.nodePath ?? process.execPath;
    const child = spawn(nodePath, [this.config.enginePath, 'serve', '--stdio'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...this.config.env, ELECTRON_RUN_AS_NODE: '1' },
      windowsHide: true,
    });
    const stderrTail: string[] = [];
    const stderrEnded = new Promise<void>((r) => (child.stderr ? child.stderr.once('close', () => r()) : r()));
    let partial = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      const lines = (partial + chunk).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        log.info(`[engine ${child.pid}] ${line}`);
        stderrTail.push(line);
        if (stderrTail.length > 20) stderrTail.shift();
      }
    });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const pending = new Set<(e: EngineError) => void>();

    // The handlers below refer to `engine`, made at the end: child processes and the connection
    // report only asynchronously, after this function has returned.
    let spawnError: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      child.on('error', (err) => {
        spawnError = err;
        log.error(`could not start the engine (${nodePath} ${this.config.enginePath}): ${err.message}`);
        onGone(null, null);
        resolve();
      });
      child.on('exit', (code, signal) => {
        // The last stderr lines may still be in the pipe; they say why it died.
        void Promise.race([stderrEnded, delay(200)]).then(() => {
          onGone(code, signal);
          resolve();
        });
      });
    });
    const onGone = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (this.engine === engine) this.engine = undefined;
      if (engine.stopping) return;
      engine.stopping = true;
      const how = spawnError ? spawnError.message : signal ? `killed by ${signal}` : `exit code ${code}`;
      log.error(`engine ${child.pid ?? '?'} exited unexpectedly (${how})`);
      const tail = stderrTail.slice(-3).join(' | ');
      engine.failAll(
        new EngineError(
          'crashed',
          tail
            ? l10n.t('The engine process stopped unexpectedly ({0}). Last log lines: {1}. The next job starts a new engine; see "Course Illustrator: Show Engine Log".', how, tail)
            : l10n.t('The engine process stopped unexpectedly ({0}). The next job starts a new engine; see "Course Illustrator: Show Engine Log".', how),
        ),
      );
      try {
        connection.dispose();
      } catch {
        // already closed
      }
    };

    this.onConnection(connection);
    connection.onNotification(EngineNotifications.log.method, (raw: unknown) => {
      const event = EngineNotifications.log.params(raw);
      log[event.level](`[engine ${child.pid}] ${event.message}`);
    });
    connection.onError(([err]) => log.warn(`engine connection: ${err.message}`));
    connection.listen();

    const options = this.config.engineOptions();
    const ready = new Promise<StatusResult>((resolve, reject) => {
      const fail = (e: EngineError): void => reject(e);
      pending.add(fail);
      withTimeout(send(connection, EngineRequests.initialize, options), this.timeouts.start, 'engine start')
        .then((status) => {
          if (status.protocolVersion !== PROTOCOL_VERSION) {
            throw new EngineError(
              'badReply',
              `The engine speaks protocol ${status.protocolVersion}, the extension ${PROTOCOL_VERSION}: rebuild with "node esbuild.js".`,
            );
          }
          log.info(
            `engine ${status.pid} ready in ${Date.now() - started} ms (provider ${status.provider}, ${status.threads} threads${options.lowMemory ? ', low memory' : ''}${options.unetWeights && options.unetWeights !== 'full' ? `, ${options.unetWeights} UNet` : ''})`,
          );
          resolve(status);
        })
        .catch((e: unknown) => {
          // A start that timed out has a message of its own; the rest map as any call's would.
          const error = isEngineError(e)
            ? e
            : e instanceof TimeoutError
              ? new EngineError('timeout', l10n.t('The engine did not start within {0} s. See "Course Illustrator: Show Engine Log".', this.timeouts.start / 1000))
              : fromReplyError(EngineRequests.initialize.method, e);
          reject(error);
          if (this.engine === engine) void this.stop();
        })
        .finally(() => pending.delete(fail));
    });
    // Nobody may be awaiting yet; avoid an unhandled rejection warning.
    ready.catch(() => undefined);
    const engine: Engine = {
      child,
      connection,
      pending,
      stopping: false,
      failAll: (e) => {
        for (const fail of [...pending]) fail(e);
      },
      ready,
      exited,
    };
    log.info(`starting engine: ${nodePath} ${this.config.enginePath} serve --stdio (${JSON.stringify(options)})`);
    return engine;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
