// Twenty clients at once on the tiny model: every request is answered 200 or 429, accepted jobs
// finish first in, first out (the X-Queue-Ticket admission order), and the output reports
// requests per second and the peak RSS of this process, which is the server's (not asserted).

import * as assert from 'assert';
import { ensureFixture } from '../../fixtures/tinyPipeline';
import { startHttpServer } from '../../../src/engine/serve/httpServer';

describe('serve: load (20 concurrent clients, tiny model)', function () {
  this.timeout(300_000);

  it('answers every request 200 or 429 and finishes accepted jobs in FIFO order', async () => {
    const model = await ensureFixture('tiny-a');
    const server = await startHttpServer({
      model, host: '127.0.0.1', port: 0, maxQueue: 8, requestTimeoutMs: 120_000, threads: 1,
      lowMemory: false, log: () => undefined,
    });
    try {
      const clients = 20;
      let finished = 0;
      const t0 = performance.now();
      const results = await Promise.all(Array.from({ length: clients }, async (_, i) => {
        const res = await fetch(`${server.url}/sdapi/v1/txt2img`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ prompt: `cell ${i}`, seed: i, steps: 8, width: 64, height: 64, sampler_name: 'Euler' }),
        });
        // Order of arrival of the answers' headers: one job runs at a time, so they come one
        // job's time apart.
        const order = ++finished;
        const json = (await res.json()) as { images?: string[] };
        return { status: res.status, ticket: Number(res.headers.get('x-queue-ticket')), order, images: json.images?.length ?? 0, retryAfter: res.headers.get('retry-after') };
      }));
      const seconds = (performance.now() - t0) / 1000;
      const accepted = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 429);
      assert.strictEqual(accepted.length + refused.length, clients, JSON.stringify(results.map((r) => r.status)));
      assert.ok(accepted.length >= 1);
      assert.ok(accepted.every((r) => r.images === 1));
      assert.ok(refused.every((r) => Number(r.retryAfter) >= 1));
      const byCompletion = [...accepted].sort((a, b) => a.order - b.order).map((r) => r.ticket);
      assert.deepStrictEqual(byCompletion, [...byCompletion].sort((a, b) => a - b), 'accepted jobs finish in admission order');
      const rssMiB = process.resourceUsage().maxRSS / 1024;
      console.log(`      load: ${clients} clients, ${accepted.length} answered 200, ${refused.length} answered 429 in ${seconds.toFixed(2)} s: ` +
        `${(clients / seconds).toFixed(1)} requests/s answered, ${(accepted.length / seconds).toFixed(1)} images/s; ` +
        `peak RSS of the server process ${rssMiB.toFixed(0)} MiB (mocha included)`);
    } finally {
      await server.close();
    }
  });
});
