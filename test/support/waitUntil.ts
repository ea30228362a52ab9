// Small helpers the engine-client tests share: waiting for a condition, and two JSON-RPC
// connections wired to each other in memory.

import { PassThrough } from 'node:stream';
import { type MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';

/** Resolves once `fn()` is true, checking every `tickMs`; rejects naming `what` after `ms`. */
export function until(what: string, fn: () => boolean, ms = 10_000, tickMs = 25): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (fn()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, tickMs);
    };
    tick();
  });
}

/** A client and a server connection talking to each other through two in-memory streams. */
export function connectionPair(): { client: MessageConnection; server: MessageConnection } {
  const up = new PassThrough();
  const down = new PassThrough();
  const client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
  const server = createMessageConnection(new StreamMessageReader(up), new StreamMessageWriter(down));
  return { client, server };
}
