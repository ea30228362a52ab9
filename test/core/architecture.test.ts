// The layout the README promises, checked on the sources: core and engine never import vscode,
// and no module imports itself back through others (type-only imports count too: a cycle of
// types is still two modules that cannot be understood one without the other).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => path.join(dir, f));
}

/** Module specifiers of a file's import and export-from statements (dynamic imports too). */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s+['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]);
  return found;
}

function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(candidate)) return candidate;
  return undefined;
}

describe('architecture', () => {
  const files = sources(SRC);

  it('keeps vscode out of src/core and src/engine', () => {
    const offenders = files
      .filter((f) => /[\\/]src[\\/](core|engine)[\\/]/.test(f))
      .filter((f) => specifiers(f).some((s) => s === 'vscode'))
      .map((f) => path.relative(SRC, f));
    assert.deepEqual(offenders, []);
  });

  it('has no import cycles', () => {
    const graph = new Map(files.map((f) => [f, specifiers(f).map((s) => resolve(f, s)).filter((x): x is string => !!x)]));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string): void => {
      state.set(f, 'visiting');
      stack.push(f);
      for (const next of graph.get(f) ?? []) {
        if (state.get(next) === 'visiting') cycles.push([...stack.slice(stack.indexOf(next)), next].map((x) => path.relative(SRC, x)).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    assert.deepEqual(cycles, []);
  });
});
