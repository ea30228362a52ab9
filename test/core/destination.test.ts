import * as assert from 'assert';
import * as path from 'path';
import {
  DestinationError,
  isInside,
  matchesGlob,
  realPathOf,
  resolveDestination,
  TRANSFORM_TIMEOUT_MS,
  unsafeRegexReason,
  type WorkspaceView,
} from '../../src/core/destination';

function memoryWorkspace(files: string[]): WorkspaceView {
  return {
    async readDirectory(folder: string) {
      const prefix = folder.endsWith('/') ? folder : folder + '/';
      return files.filter((f) => f.startsWith(prefix) && !f.slice(prefix.length).includes('/')).map((f) => f.slice(prefix.length));
    },
  };
}

const base = { documentPath: '/ws/course/intro.md', workspaceFolder: '/ws', imageFolder: 'images/${documentBaseName}/', fileName: 'plant-cell-42.png' };

describe('core/destination', () => {
  it('uses courseIllustrator.imageFolder relative to the document by default', async () => {
    const d = await resolveDestination(base, memoryWorkspace([]));
    assert.deepStrictEqual(d, { folder: '/ws/course/images/intro', file: '/ws/course/images/intro/plant-cell-42.png', source: 'courseIllustrator.imageFolder' });
  });

  it('never overwrites: a taken name is incremented (case-insensitively)', async () => {
    const ws = memoryWorkspace(['/ws/course/images/intro/plant-cell-42.png', '/ws/course/images/intro/Plant-Cell-42-2.png']);
    const d = await resolveDestination(base, ws);
    assert.strictEqual(d.file, '/ws/course/images/intro/plant-cell-42-3.png');
  });

  it('lets markdown.copyFiles.destination win when its glob matches the document', async () => {
    const d = await resolveDestination(
      { ...base, copyFilesDestination: { '/docs/**': '/static/', '**/*.md': 'assets/${documentBaseName}-${fileName}' } },
      memoryWorkspace([]),
    );
    assert.strictEqual(d.file, '/ws/course/assets/intro-plant-cell-42.png');
    assert.strictEqual(d.source, 'markdown.copyFiles.destination');
  });

  it('anchors leading-slash globs and destinations at the workspace folder', async () => {
    const d = await resolveDestination({ ...base, copyFilesDestination: { '/course/*.md': '/media/${documentRelativeDirName}/' } }, memoryWorkspace([]));
    assert.strictEqual(d.file, '/ws/media/course/plant-cell-42.png');
    const other = await resolveDestination({ ...base, copyFilesDestination: { '/other/*.md': '/media/' } }, memoryWorkspace([]));
    assert.strictEqual(other.source, 'courseIllustrator.imageFolder');
  });

  it('supports ${var/regex/replacement/} transforms', async () => {
    const d = await resolveDestination({ ...base, documentPath: '/ws/course/01-intro.md', imageFolder: 'img/${documentBaseName/^\\d+-//}' }, memoryWorkspace([]));
    assert.strictEqual(d.file, '/ws/course/img/intro/plant-cell-42.png');
  });

  it('refuses destinations outside the workspace folder, naming the setting', async () => {
    await assert.rejects(resolveDestination({ ...base, imageFolder: '../../elsewhere/' }, memoryWorkspace([])), (e: unknown) => {
      assert.ok(e instanceof DestinationError);
      assert.match((e as Error).message, /outside the workspace folder "\/ws".*courseIllustrator\.imageFolder/);
      return true;
    });
    await assert.rejects(resolveDestination({ ...base, copyFilesDestination: { '*.md': '../outside/' }, documentPath: '/ws/sub/a.md', workspaceFolder: '/ws/sub' }, memoryWorkspace([])), /markdown\.copyFiles\.destination/);
  });

  it('keeps files outside any workspace folder within the document folder', async () => {
    const d = await resolveDestination({ ...base, workspaceFolder: undefined }, memoryWorkspace([]));
    assert.strictEqual(d.folder, '/ws/course/images/intro');
    await assert.rejects(resolveDestination({ ...base, workspaceFolder: undefined, imageFolder: '${documentWorkspaceFolder}/../x/' }, memoryWorkspace([])), DestinationError);
  });

  it('matches globs like VS Code', () => {
    assert.ok(matchesGlob('**/*.md', '/ws/a/b.md'));
    assert.ok(!matchesGlob('**/*.md', '/ws/a/b.mdx'));
    assert.ok(matchesGlob('/ws/docs/**', '/ws/docs/x/y.md'));
    assert.ok(matchesGlob('**/{a,b}/*.md', '/ws/b/c.md'));
    assert.ok(!matchesGlob('/ws/*.md', '/ws/sub/c.md'));
  });
});

/** An in-memory workspace with symbolic links: `links` maps a link's path to its target. */
function linkedWorkspace(dirs: string[], links: Record<string, string>): WorkspaceView {
  const exists = new Set(dirs);
  const resolve = (p: string, depth = 0): string | undefined => {
    if (depth > 40) throw new Error(`"${p}" is a loop of symbolic links`);
    const parts = p.split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = path.posix.join(cur, parts[i]);
      const target = links[next];
      if (target !== undefined) {
        const real = resolve(path.posix.resolve(cur, target), depth + 1);
        if (real === undefined) throw new Error(`"${next}" is a symbolic link to "${target}", which does not exist`);
        cur = real;
      } else if (exists.has(next)) cur = next;
      else return undefined;
    }
    return cur;
  };
  return { readDirectory: async () => [], realPath: async (p) => resolve(p) };
}

describe('core/destination: symbolic links (in-memory view)', () => {
  const dirs = ['/ws', '/ws/course', '/ws/real', '/outside', '/outside/course'];

  it('refuses a folder in the workspace that links outside (relative and absolute links), naming the setting', async () => {
    for (const target of ['/outside', '../../outside']) {
      const ws = linkedWorkspace(dirs, { '/ws/course/images': target });
      await assert.rejects(resolveDestination(base, ws), (e: unknown) => {
        assert.ok(e instanceof DestinationError);
        assert.match((e as Error).message, /which a symbolic link makes "\/outside\/intro\/plant-cell-42\.png": outside the workspace folder "\/ws"/);
        assert.match((e as Error).message, /Change courseIllustrator\.imageFolder/);
        return true;
      });
    }
  });

  it('refuses a Markdown file inside a linked folder, and accepts links that stay inside', async () => {
    const ws = linkedWorkspace(dirs, { '/ws/linked': '/outside', '/ws/alias': 'real' });
    await assert.rejects(resolveDestination({ ...base, documentPath: '/ws/linked/course/intro.md' }, ws), /outside the workspace folder "\/ws"/);
    // A leading "/" anchors the folder at the workspace, which is the fix the message suggests.
    const fixed = await resolveDestination({ ...base, documentPath: '/ws/linked/course/intro.md', imageFolder: '/images/${documentBaseName}/' }, ws);
    assert.strictEqual(fixed.file, '/ws/images/intro/plant-cell-42.png');
    const inside = await resolveDestination({ ...base, documentPath: '/ws/alias/intro.md' }, ws);
    assert.strictEqual(inside.file, '/ws/alias/images/intro/plant-cell-42.png');
  });

  it('accepts a workspace opened through a link, and refuses dangling or looping links with a message', async () => {
    const ws = linkedWorkspace(['/data', '/data/ws', '/data/ws/course'], { '/home': '/data' });
    const d = await resolveDestination({ ...base, documentPath: '/home/ws/course/intro.md', workspaceFolder: '/home/ws' }, ws);
    assert.strictEqual(d.file, '/home/ws/course/images/intro/plant-cell-42.png');
    await assert.rejects(
      resolveDestination(base, linkedWorkspace(dirs, { '/ws/course/images': '/gone' })),
      /Cannot tell where images .* symbolic link to "\/gone", which does not exist\. Fix the symbolic link or change courseIllustrator\.imageFolder/,
    );
    await assert.rejects(resolveDestination(base, linkedWorkspace(dirs, { '/ws/course/images': '/ws/course/images' })), /loop of symbolic links/);
  });

  it('realPathOf resolves the deepest existing folder and keeps the rest', async () => {
    const ws = linkedWorkspace(dirs, { '/ws/l': '/outside' });
    assert.strictEqual(await realPathOf('/ws/l/a/b.png', ws.realPath!), '/outside/a/b.png');
    assert.strictEqual(await realPathOf('/nowhere/x', ws.realPath!), '/nowhere/x');
  });
});

describe('core/destination: backslashes (Windows traversal)', () => {
  /** What Windows would make of the paths: the reference the check must never be laxer than. */
  const win32Inside = (root: string, p: string) => {
    const rel = path.win32.relative(root, p);
    return rel !== '' && rel !== '..' && !rel.startsWith('..\\') && !path.win32.isAbsolute(rel);
  };

  it('never says inside where path.win32 says outside', () => {
    const cases: [string, string][] = [
      ['C:\\ws', 'C:\\ws\\images\\a.png'],
      ['C:\\ws', 'C:\\ws\\..\\..\\elsewhere\\a.png'],
      ['C:\\ws', 'C:\\ws\\course\\..\\..\\x.png'],
      ['C:\\ws', 'c:\\WS\\a.png'],
      ['C:\\ws', 'D:\\ws\\a.png'],
      ['C:\\ws', 'C:\\ws'],
      ['C:\\ws', 'C:\\wsx\\a.png'],
      ['/c:/ws', '/c:/ws/course/..\\..\\..\\x.png'],
      ['/c:/ws', '/C:/ws/images/a.png'],
      ['C:/ws', 'C:/ws/a\\..\\..\\b'],
    ];
    for (const [root, p] of cases) {
      const ours = isInside(root, p);
      const win = win32Inside(root.replace(/^\/([a-z]:)/i, '$1'), p.replace(/^\/([a-z]:)/i, '$1'));
      if (ours) assert.ok(win, `${p} judged inside ${root}, but Windows would write outside`);
      // Folder names differing only in case: Windows says inside, this check stays conservative.
      if (!p.includes('WS')) assert.strictEqual(ours, win, `${root} ${p}`);
    }
    // POSIX: a backslash is a name character there, still it may never climb out.
    assert.strictEqual(isInside('/ws', '/ws/..\\..\\x'), false);
    assert.strictEqual(isInside('/ws', '/ws/../x\\..\\ws\\y'), false, 'outside on POSIX even though inside with \\ as a separator');
  });

  it('refuses "..\\..\\" in courseIllustrator.imageFolder and in markdown.copyFiles.destination', async () => {
    await assert.rejects(resolveDestination({ ...base, imageFolder: '..\\..\\elsewhere\\' }, memoryWorkspace([])), (e: unknown) => {
      assert.ok(e instanceof DestinationError);
      assert.match((e as Error).message, /"\/elsewhere\/plant-cell-42\.png", outside the workspace folder "\/ws".*courseIllustrator\.imageFolder/);
      return true;
    });
    await assert.rejects(
      resolveDestination({ ...base, documentPath: '/c:/ws/course/intro.md', workspaceFolder: '/c:/ws', imageFolder: 'images\\..\\..\\..\\x\\' }, memoryWorkspace([])),
      /outside the workspace folder "\/c:\/ws"/,
    );
    await assert.rejects(resolveDestination({ ...base, copyFilesDestination: { '**/*.md': '${documentDirName}\\..\\..\\' } }, memoryWorkspace([])), /markdown\.copyFiles\.destination/);
    // Inside: backslashes are folder separators on every OS.
    const d = await resolveDestination({ ...base, imageFolder: 'img\\${documentBaseName}' }, memoryWorkspace([]));
    assert.strictEqual(d.file, '/ws/course/img/intro/plant-cell-42.png');
  });
});

describe('core/destination: hostile settings', () => {
  const doc = { ...base, documentPath: `/ws/course/${'a'.repeat(60)}.md` };
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      console.log(`      ${what}: ${(performance.now() - t).toFixed(1)} ms`);
    }
  };

  it('matches exponential globs against a long path quickly', async () => {
    const longDoc = `/ws/${'a/'.repeat(500)}${'a'.repeat(200)}.md`;
    for (const glob of ['(a*)*b', '**/**/**/**/**/**/**/**/*.md', `**/${'*a'.repeat(200)}*b`, '**/*a*a*a*a*a*a*a*a*a*a*a*a*b.md']) {
      const d = await timed(`glob ${glob.slice(0, 40)}`, () =>
        resolveDestination({ ...base, documentPath: longDoc, copyFilesDestination: { [glob]: '/assets/' } }, memoryWorkspace([])),
      );
      assert.strictEqual(d.source, glob.startsWith('**/**') ? 'markdown.copyFiles.destination' : 'courseIllustrator.imageFolder');
    }
  });

  it('skips an invalid glob with a warning instead of failing every document', async () => {
    const d = await resolveDestination({ ...base, copyFilesDestination: { '[z-a]/*.md': '/x/', '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}': '/y/', '**/*.md': '/ok/' } }, memoryWorkspace([]));
    assert.strictEqual(d.file, '/ws/ok/plant-cell-42.png');
    assert.strictEqual(d.warnings?.length, 2);
    assert.match(d.warnings![0], /markdown\.copyFiles\.destination glob "\[z-a\]\/\*\.md" is ignored: the range "z-a" in \[\.\.\.\] is out of order/);
    assert.match(d.warnings![1], /more than 64 alternatives/);
  });

  it('rejects transforms that backtrack, naming the setting, in bounded time', async () => {
    const cases: [string, RegExp][] = [
      ['img/${documentBaseName/(a+)+b/x/}', /repeated group contains a repetition/],
      ['img/${documentBaseName/(a*)*$/x/}', /repeated group contains a repetition/],
      ['img/${documentBaseName/(a)\\1/x/}', /backreferences/],
      ['img/${documentBaseName/(a|a)*b/x/}', new RegExp(`took longer than ${TRANSFORM_TIMEOUT_MS} ms`)],
      ['img/${documentBaseName/[/x/}', /not a valid regular expression/],
      ['img/${documentBaseName/a/b', /is not closed/],
      ['img/${documentBaseName/a/b/zz}', /not transform options/],
    ];
    for (const [imageFolder, why] of cases) {
      await timed(`transform ${imageFolder}`, () =>
        assert.rejects(resolveDestination({ ...doc, imageFolder }, memoryWorkspace([])), (e: unknown) => {
          assert.ok(e instanceof DestinationError, String(e));
          assert.match((e as Error).message, why);
          assert.match((e as Error).message, /The courseIllustrator\.imageFolder setting ".*" cannot be used: .*Change courseIllustrator\.imageFolder/);
          return true;
        }),
      );
    }
  });

  it('a bad transform in a copyFiles entry only matters for documents it applies to', async () => {
    const settings = { copyFilesDestination: { '**/slides/*.md': '/media/${documentBaseName/(x+)+//}/' } };
    const d = await resolveDestination({ ...base, ...settings }, memoryWorkspace([]));
    assert.strictEqual(d.source, 'courseIllustrator.imageFolder');
    await assert.rejects(resolveDestination({ ...base, ...settings, documentPath: '/ws/slides/a.md' }, memoryWorkspace([])), /markdown\.copyFiles\.destination setting/);
  });

  it('keeps ordinary transforms working, with flags and braces', async () => {
    const d = await resolveDestination({ ...base, documentPath: '/ws/course/01-Intro Part.md', imageFolder: 'img/${documentBaseName/^\\d{2}-//}/${documentBaseName/[^a-z0-9]+/-/gi}' }, memoryWorkspace([]));
    assert.strictEqual(d.file, '/ws/course/img/Intro Part/01-Intro-Part/plant-cell-42.png');
    assert.strictEqual(unsafeRegexReason('^(\\d+)-(.*)$'), undefined);
    assert.strictEqual(unsafeRegexReason('(-|_)+'), undefined);
    assert.strictEqual(unsafeRegexReason('(ab?)?c'), undefined);
    assert.ok(unsafeRegexReason('((a)+)+'));
    assert.ok(unsafeRegexReason('(?:a{2,})*'));
    assert.ok(unsafeRegexReason('(?<x>a)\\k<x>'));
  });
});
