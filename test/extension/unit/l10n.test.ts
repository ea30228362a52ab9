// The Chinese interface stays complete: every %key% of package.json has an English and a Chinese
// text, every l10n.t literal in the sources is in l10n/bundle.l10n.json and translated in
// bundle.l10n.zh-cn.json, and the translations keep their placeholders. When this fails after a
// change: `npm run l10n` rewrites the English bundle; add the Chinese text by hand.

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as l10n from '@vscode/l10n';
import * as ts from 'typescript';
import { stepsProblem } from '../../../src/core/limits';
import { problemText } from '../../../src/core/webviewMessages';

const ROOT = path.join(__dirname, '..', '..', '..');
const SOURCE_DIRS = ['src/extension', 'src/core', 'webview'];

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, file), 'utf8')) as Record<string, unknown>;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) return tsFiles(rel);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Every `l10n.t(…)` / `vscode.l10n.t(…)` call: its literal message, or a problem when it has none. */
function l10nCalls(): { literals: Map<string, string>; problems: string[] } {
  const literals = new Map<string, string>();
  const problems: string[] = [];
  for (const file of SOURCE_DIRS.flatMap(tsFiles)) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (ts.isCallExpression(node) && /^(vscode\.)?l10n\.t$/.test(node.expression.getText(source))) {
        const where = `${file}:${source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1}`;
        const first = node.arguments[0];
        if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) literals.set(first.text, where);
        else problems.push(`${where}: l10n.t needs a string literal (the bundle is extracted from the sources)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return { literals, problems };
}

/** What must survive translation: {0}-placeholders, $(codicons), ${variables}, #setting# links. */
function tokens(text: string): string[] {
  return [...text.matchAll(/\{\d+\}|\$\([a-z-]+\)|\$\{[A-Za-z]+\}|#courseIllustrator\.[A-Za-z]+#/g)].map((m) => m[0]).sort();
}

function stringsOf(x: unknown, at: string, out: { at: string; text: string }[] = []): { at: string; text: string }[] {
  if (typeof x === 'string') out.push({ at, text: x });
  else if (Array.isArray(x)) x.forEach((v, i) => stringsOf(v, `${at}[${i}]`, out));
  else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) stringsOf(v, `${at}.${k}`, out);
  return out;
}

describe('localisation (English and Simplified Chinese)', () => {
  const pkg = readJson('package.json');
  const nls = readJson('package.nls.json');
  const nlsZh = readJson('package.nls.zh-cn.json');
  const bundle = readJson('l10n/bundle.l10n.json');
  const bundleZh = readJson('l10n/bundle.l10n.zh-cn.json');

  it('package.json points VS Code at the l10n folder', () => {
    assert.equal(pkg.l10n, './l10n');
  });

  it("every %key% in package.json has an English and a Chinese text, and the files have no other keys", () => {
    const used = new Set(stringsOf(pkg, 'package').flatMap((s) => [...s.text.matchAll(/^%([^%\s]+)%$/g)].map((m) => m[1])));
    for (const key of used) {
      assert.equal(typeof nls[key], 'string', `package.nls.json has no "${key}"`);
      assert.ok(typeof nlsZh[key] === 'string' && nlsZh[key] !== '', `package.nls.zh-cn.json has no "${key}"`);
    }
    assert.deepEqual(Object.keys(nls).filter((k) => !used.has(k)), [], 'keys of package.nls.json that package.json does not use');
    assert.deepEqual(Object.keys(nlsZh).filter((k) => !used.has(k)), [], 'keys of package.nls.zh-cn.json that package.json does not use');
  });

  it('every text the user reads in package.json contributions is a %key%', () => {
    const shown = /\.(title|category|description|markdownDescription|enumDescriptions\[\d+\]|patternErrorMessage|name)$/;
    const contributes = stringsOf(pkg.contributes, 'contributes').filter((s) => shown.test(s.at) && !/^contributes\.configuration\.properties\.[^.]+\.type/.test(s.at));
    const plain = contributes.filter((s) => !/^%[^%\s]+%$/.test(s.text));
    assert.deepEqual(plain.map((s) => `${s.at}: ${s.text}`), []);
  });

  it('searching the palette for 生成插图 finds "Generate Illustration"', () => {
    const commands = (pkg.contributes as { commands: { command: string; title: string }[] }).commands;
    const generate = commands.find((c) => c.command === 'courseIllustrator.generate');
    assert.equal(generate?.title, '%command.generate.title%');
    assert.equal(nls['command.generate.title'], 'Generate Illustration');
    assert.equal(nlsZh['command.generate.title'], '生成插图');
  });

  it('every l10n.t call in the sources has a literal message that the English bundle holds', () => {
    const { literals, problems } = l10nCalls();
    assert.deepEqual(problems, []);
    assert.ok(literals.size > 300, `found only ${literals.size} messages`);
    const missing = [...literals].filter(([message]) => bundle[message] !== message).map(([message, where]) => `${where}: ${message}`);
    assert.deepEqual(missing, [], 'run `npm run l10n` to extract them');
    const stale = Object.keys(bundle).filter((k) => !literals.has(k));
    assert.deepEqual(stale, [], 'messages in l10n/bundle.l10n.json that no source uses any more');
  });

  it('every message of the English bundle has a Chinese translation, and no other', () => {
    const untranslated = Object.keys(bundle).filter((k) => typeof bundleZh[k] !== 'string' || bundleZh[k] === '');
    assert.deepEqual(untranslated, []);
    assert.deepEqual(Object.keys(bundleZh).filter((k) => !(k in bundle)), []);
  });

  it('translations keep their placeholders, codicons, variables and setting links', () => {
    const broken = [
      ...Object.keys(bundle).map((k) => ({ key: k, en: k, zh: String(bundleZh[k] ?? '') })),
      ...Object.keys(nls).map((k) => ({ key: k, en: String(nls[k]), zh: String(nlsZh[k] ?? '') })),
    ].filter((m) => tokens(m.en).join(' ') !== tokens(m.zh).join(' '));
    assert.deepEqual(broken.map((m) => `${m.key}: ${tokens(m.en).join(' ')} vs ${tokens(m.zh).join(' ')}`), []);
  });

  describe('with the Chinese bundle loaded (as VS Code loads it for a zh-cn display language)', () => {
    before(() => l10n.config({ contents: bundleZh as Record<string, string> }));
    after(() => l10n.config({ contents: {} }));

    it('the panel says a form problem in Chinese, the same sentence built in English without it', () => {
      assert.equal(problemText({ field: 'steps', problem: stepsProblem(0) ?? '' }), '步数必须是 1 到 150 之间的整数。');
    });
  });

  it('without a bundle the messages stay English', () => {
    assert.equal(problemText({ field: 'steps', problem: stepsProblem(0) ?? '' }), 'Steps must be a whole number from 1 to 150.');
  });
});
