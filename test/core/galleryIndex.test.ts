import { schedulerFromFields } from '../../src/core/generationSettings';
import assert from 'node:assert/strict';
import {
  GalleryEntry,
  GalleryIndex,
  entryFromPng,
  entryId,
  settingsFromEntry,
  thumbnailName,
} from '../../src/core/galleryIndex';
import { ImageLinkIndex } from '../../src/core/imageLinks';
import { PanelSettings } from '../../src/core/webviewMessages';

function entry(path: string, mtimeMs: number, prompt: string, fields: Record<string, string> = {}): GalleryEntry {
  return {
    id: entryId(path),
    path,
    label: path.replace('/ws/', ''),
    fileName: path.split('/').pop() ?? path,
    mtimeMs,
    size: 1000,
    width: 512,
    height: 512,
    prompt,
    negativePrompt: '',
    fields,
  };
}

const defaults: PanelSettings = {
  prompt: '', negativePrompt: '', width: 512, height: 512, steps: 20, guidance: 7.5,
  scheduler: 'default', seed: undefined, seedLocked: false, batch: 1,
};

describe('galleryIndex', () => {
  it('makes stable, distinct, file-name-safe ids', () => {
    assert.equal(entryId('/ws/a.png'), entryId('/ws/a.png'));
    assert.notEqual(entryId('/ws/a.png'), entryId('/ws/b.png'));
    assert.match(entryId('/ws/ünïcode file.png'), /^[0-9a-f]{16}$/);
    const ids = new Set(Array.from({ length: 5000 }, (_, i) => entryId(`/ws/images/lesson-${i}/img-${i % 7}.png`)));
    assert.equal(ids.size, 5000);
  });

  it('lists newest first and replaces an entry for the same path', () => {
    const idx = new GalleryIndex();
    idx.upsert(entry('/ws/old.png', 1, 'an old cat'));
    idx.upsert(entry('/ws/new.png', 3, 'a new dog'));
    idx.upsert(entry('/ws/mid.png', 2, 'a mid bird'));
    assert.deepEqual(idx.all().map((e) => e.fileName), ['new.png', 'mid.png', 'old.png']);
    idx.upsert(entry('/ws/old.png', 4, 'an old cat, edited'));
    assert.equal(idx.size, 3);
    assert.equal(idx.all()[0].fileName, 'old.png');
  });

  it('searches every word in prompt or path, case-insensitively', () => {
    const idx = new GalleryIndex();
    idx.upsert(entry('/ws/lesson1/a.png', 1, 'A Red Cat on a mat'));
    idx.upsert(entry('/ws/lesson2/b.png', 2, 'a blue cat'));
    idx.upsert(entry('/ws/lesson2/c.png', 3, 'a red dog'));
    assert.deepEqual(idx.query({ text: 'red CAT', offset: 0, limit: 10 }).items.map((e) => e.fileName), ['a.png']);
    assert.equal(idx.query({ text: 'lesson2', offset: 0, limit: 10 }).total, 2);
    assert.equal(idx.query({ text: '  ', offset: 0, limit: 10 }).total, 3);
    assert.equal(idx.query({ text: 'zebra', offset: 0, limit: 10 }).total, 0);
  });

  it('pages and searches over 1,000 entries and removes files and folders', () => {
    const idx = new GalleryIndex();
    for (let i = 0; i < 1200; i++) idx.upsert(entry(`/ws/l${i % 10}/img${i}.png`, i, `prompt number ${i}`));
    const first = idx.query({ text: '', offset: 0, limit: 60 });
    const last = idx.query({ text: '', offset: 1180, limit: 60 });
    const search = idx.query({ text: 'number 11', offset: 0, limit: 60 });
    assert.equal(first.total, 1200);
    assert.equal(first.items[0].fileName, 'img1199.png');
    assert.equal(last.items.length, 20);
    assert.equal(last.items[19].fileName, 'img0.png');
    assert.ok(search.items.every((e) => e.prompt.includes('number 11')));
    assert.equal(idx.query({ text: '', offset: 5000, limit: 60 }).items.length, 0);
    assert.equal(idx.removePath('/ws/l0/img0.png'), true);
    assert.equal(idx.removePath('/ws/l0/img0.png'), false);
    assert.equal(idx.removeUnder('/ws/l1'), 120);
    assert.equal(idx.size, 1200 - 1 - 120);
  });

  it('filters to the images no document links, with search and paging on the filtered list', () => {
    const idx = new GalleryIndex();
    for (let i = 0; i < 300; i++) idx.upsert(entry(`/ws/l${i % 3}/img${i}.png`, i, i % 2 ? `a red cat ${i}` : `a blue dog ${i}`));
    const links = new ImageLinkIndex();
    // Every image whose number is not a multiple of 5 is linked from a lesson.
    links.set({ path: '/ws/lesson.md', text: Array.from({ length: 300 }, (_, i) => (i % 5 ? `![x](l${i % 3}/img${i}.png)` : '')).join('\n\n'), root: '/ws' });
    const only = (e: GalleryEntry) => links.isUnused(e.path);
    const first = idx.query({ text: '', offset: 0, limit: 25, only });
    assert.equal(first.total, 60);
    assert.deepEqual(first.items.slice(0, 3).map((e) => e.fileName), ['img295.png', 'img290.png', 'img285.png']);
    const second = idx.query({ text: '', offset: 25, limit: 25, only });
    const third = idx.query({ text: '', offset: 50, limit: 25, only });
    assert.equal(third.items.length, 10);
    assert.equal(new Set([...first.items, ...second.items, ...third.items].map((e) => e.id)).size, 60, 'pages neither overlap nor skip');
    const red = idx.query({ text: 'red cat', offset: 0, limit: 100, only });
    assert.equal(red.total, 30, 'odd multiples of 5');
    assert.ok(red.items.every((e) => e.prompt.includes('red cat') && Number(/\d+/.exec(e.fileName)?.[0]) % 5 === 0));
    assert.equal(idx.query({ text: 'l1', offset: 0, limit: 100, only }).total, 20, 'the path is searched too');
    assert.equal(idx.query({ text: '', offset: 0, limit: 100 }).total, 300, 'without the filter: all');
  });

  it('names thumbnails so a changed image gets a new one', () => {
    const e = entry('/ws/a.png', 1000, 'x');
    const before = thumbnailName(e, 256);
    assert.match(before, /^[0-9a-f]{16}-[0-9a-z]+-[0-9a-z]+-256\.png$/);
    assert.notEqual(thumbnailName({ ...e, mtimeMs: 2000 }, 256), before);
  });

  it('rebuilds panel settings from A1111 infotext fields', () => {
    const e = entry('/ws/a.png', 1, 'a cat', {
      Steps: '30', Sampler: 'DPM++ 2M', 'Schedule type': 'Karras', 'CFG scale': '6.5', Seed: '1234', Size: '768x512',
    });
    const s = settingsFromEntry({ ...e, negativePrompt: 'blurry' }, defaults);
    assert.deepEqual(s, {
      prompt: 'a cat', negativePrompt: 'blurry', width: 768, height: 512, steps: 30, guidance: 6.5,
      scheduler: 'dpmpp-2m-karras', seed: 1234, seedLocked: true, batch: 1,
    });
    assert.equal(schedulerFromFields({ Sampler: 'Euler a' }), 'euler-a');
    assert.equal(schedulerFromFields({ Sampler: 'Nonsense' }), undefined);
    assert.equal(settingsFromEntry(entry('/ws/a.png', 1, 'a cat', { Sampler: 'Nonsense' }), defaults).scheduler, 'default');
  });

  it('gives the form the subject and the template back for an image made with a template', () => {
    const e = entry('/ws/a.png', 1, 'a volcano, simple friendly flat illustration, bright colours, clear shapes', { Template: 'education-primary', Seed: '3' });
    const s = settingsFromEntry(e, defaults);
    assert.equal(s.prompt, 'a volcano');
    assert.equal(s.template, 'education-primary');
    const edited = settingsFromEntry({ ...e, prompt: 'a volcano at night' }, defaults);
    assert.equal(edited.prompt, 'a volcano at night', 'the wording is gone: the prompt stays whole');
    assert.equal(edited.template, undefined);
  });

  it('keeps a course style\'s words in the form\'s prompt, which has no field for them, so the model reads the same', () => {
    const whole = 'a volcano, simple friendly flat illustration, bright colours, clear shapes, flat textbook look';
    const s = settingsFromEntry(entry('/ws/a.png', 1, whole, { Template: 'education-primary', 'Course style': 'flat textbook look' }), defaults);
    assert.equal(s.prompt, whole);
    assert.equal(s.template, undefined);
  });

  it('brings untrusted metadata within the limits, as Regenerate does, and falls back to defaults for the rest', () => {
    const e = entry('/ws/a.png', 1, 'a cat', { Steps: '9999', 'CFG scale': 'x', Seed: '-3', Size: '500x500' });
    const s = settingsFromEntry({ ...e, width: 500, height: 500 }, defaults);
    assert.equal(s.steps, 150);
    assert.equal(s.guidance, 7.5);
    assert.equal(s.seed, undefined);
    assert.equal(s.seedLocked, false);
    assert.equal(s.width, 496);
    assert.equal(s.height, 496);
    assert.equal(settingsFromEntry(entry('/ws/b.png', 1, '', {}), defaults).prompt, defaults.prompt);
  });
});

describe('entryFromPng', () => {
  const file = { path: '/ws/images/intro/heart-42.png', label: 'images/intro/heart-42.png', mtimeMs: 5, size: 9 };

  it('keeps only images made by Course Illustrator', () => {
    assert.equal(entryFromPng(file, { width: 512, height: 512, madeByCourseIllustrator: false, prompt: 'x' }), undefined, 'a prompt alone is no generation record');
    // Another tool's picture with A1111 parameters (A1111, Forge, ComfyUI's A1111 export) is in the gallery too.
    const a1111 = entryFromPng(file, { width: 512, height: 512, madeByCourseIllustrator: false, prompt: 'a castle', fields: { Steps: '30', Sampler: 'DPM++ 2M', Seed: '7' } });
    assert.equal(a1111?.prompt, 'a castle');
    assert.equal(a1111?.fields.Seed, '7');
    const e = entryFromPng(file, { width: 768, height: 512, madeByCourseIllustrator: true, prompt: 'a heart', fields: { Seed: '42' } });
    assert.equal(e?.fileName, 'heart-42.png');
    assert.equal(e?.id, entryId(file.path));
    assert.equal(e?.prompt, 'a heart');
    assert.equal(e?.negativePrompt, '');
    assert.deepEqual(e?.fields, { Seed: '42' });
  });
});
