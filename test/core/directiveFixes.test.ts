import assert from 'node:assert/strict';
import { directiveOptionFixes } from '../../src/core/directiveFixes';
import { parseStubs } from '../../src/core/stubs';

const texts = (option: string) => directiveOptionFixes(option).map((f) => f.text);

describe('quick fixes for directive options', () => {
  it('offers the nearest key for a misspelt one', () => {
    assert.deepEqual(texts(' shceduler: ddim '), ['scheduler: ddim']);
    assert.deepEqual(texts('steeps: 20'), ['steps: 20']);
    assert.deepEqual(texts('zzzzzz: 1'), [], 'nothing close: no guess');
  });

  it('offers the nearest scheduler, template and template part', () => {
    assert.equal(texts('scheduler: eulr-a')[0], 'scheduler: euler-a');
    assert.equal(texts('scheduler: dpmpp-2m-karas')[0], 'scheduler: dpmpp-2m-karras');
    assert.deepEqual(texts('scheduler: euler-a'), [], 'a known one needs no fix');
    assert.equal(texts('template: education-primry')[0], 'template: education-primary');
    assert.equal(texts('subject: biologie')[0], 'subject: biology');
    assert.equal(texts('level: hihg')[0], 'level: high');
    assert.equal(texts('domain: medicl')[0], 'domain: medical');
  });

  it('rounds a size to the multiples of 8 the model takes, within the limits', () => {
    assert.deepEqual(texts('size: 500x300'), ['size: 504x304']);
    assert.deepEqual(texts('size: 5000×10'), ['size: 2048x64']);
    assert.deepEqual(texts('size: 512'), ['size: 512x512']);
    assert.deepEqual(texts('size: big'), []);
  });

  it('brings steps and guidance within their ranges', () => {
    assert.deepEqual(texts('steps: 500'), ['steps: 150']);
    assert.deepEqual(texts('steps: 12.6'), ['steps: 13']);
    assert.deepEqual(texts('guidance: 45'), ['guidance: 30']);
    assert.deepEqual(texts('fast: maybe'), ['fast: yes', 'fast: no']);
  });

  it('every fix it offers is accepted by the stub parser', () => {
    for (const option of ['shceduler: ddim', 'scheduler: eulr-a', 'template: education-primry', 'subject: biologie', 'size: 500x300', 'steps: 500', 'guidance: 45', 'fast: maybe', 'domain: medicl', 'level: hihg']) {
      for (const f of directiveOptionFixes(option)) {
        const parsed = parseStubs(`<!-- illustrate: a cell | ${f.text} -->\n`);
        assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), [], `${option} -> ${f.text}`);
      }
    }
  });
});
