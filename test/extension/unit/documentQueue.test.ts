import * as assert from 'assert';
import { inDocumentQueue } from '../../../src/extension/insert/documentQueue';
import { ownLineBreaks } from '../../../src/extension/insert/ownLine';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('inDocumentQueue', () => {
  it('runs edits to one document one after the other, even when an earlier one fails', async () => {
    const log: string[] = [];
    const step = (name: string, fail = false) => async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    };
    const a = inDocumentQueue('file:///a.md', step('a1', true));
    const b = inDocumentQueue('file:///a.md', step('a2'));
    const other = inDocumentQueue('file:///b.md', step('b1'));
    await assert.rejects(a, /a1/);
    assert.strictEqual(await b, 'a2');
    assert.strictEqual(await other, 'b1');
    assert.ok(log.indexOf('a1 end') < log.indexOf('a2 start'), log.join(', '));
    // Another document does not wait for a.md.
    assert.ok(log.indexOf('b1 start') < log.indexOf('a1 end'), log.join(', '));
  });
});

describe('ownLineBreaks', () => {
  it('adds a break only on the side where the line has text', () => {
    assert.deepStrictEqual(ownLineBreaks('', 0, '\n'), { before: '', after: '' });
    assert.deepStrictEqual(ownLineBreaks('Intro', 5, '\n'), { before: '\n', after: '' });
    assert.deepStrictEqual(ownLineBreaks('![a](x.png)', 0, '\r\n'), { before: '', after: '\r\n' });
    assert.deepStrictEqual(ownLineBreaks('one two', 3, '\n'), { before: '\n', after: '\n' });
    assert.deepStrictEqual(ownLineBreaks('   ', 3, '\n'), { before: '', after: '' });
  });
});
