// Builds (once) and prints the tiny-a, tiny-b and tiny-inpaint fixture folders, for diffusers_reference.py.
import { ensureFixture } from '../fixtures/tinyPipeline';

(async () => {
  console.log(`${await ensureFixture('tiny-a')} ${await ensureFixture('tiny-b')} ${await ensureFixture('tiny-inpaint')}`);
})().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
