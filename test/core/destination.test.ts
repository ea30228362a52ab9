import * as assert from 'assert';
import { DestinationError, globToRegExp, resolveDestination, type WorkspaceView } from '../../src/core/destination';

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
    assert.ok(globToRegExp('**/*.md').test('/ws/a/b.md'));
    assert.ok(!globToRegExp('**/*.md').test('/ws/a/b.mdx'));
    assert.ok(globToRegExp('/ws/docs/**').test('/ws/docs/x/y.md'));
    assert.ok(globToRegExp('**/{a,b}/*.md').test('/ws/b/c.md'));
    assert.ok(!globToRegExp('/ws/*.md').test('/ws/sub/c.md'));
  });
});
