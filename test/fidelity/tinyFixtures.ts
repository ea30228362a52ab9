// Builds (once) and prints the tiny-a and tiny-b fixture folders, for diffusers_reference.py.
import { ensureFixture } from '../fixtures/tinyPipeline';

(async () => {
  console.log(`${await ensureFixture('tiny-a')} ${await ensureFixture('tiny-b')}`);
})().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
