// Reads at chosen offsets of a file (or a buffer, in tests) with a budget, for the JPEG and WebP
// metadata readers: they skip the image data by its length instead of reading it, and however a
// hostile file is laid out (thousands of segments, lengths that lie) they read at most `budget`
// bytes from disk; past it every read comes back empty, which the parsers take as the end.

import type { promises as fsp } from 'fs';

export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `position`: fewer at the end of the data or once the budget is spent. */
  read(position: number, length: number): Promise<Buffer>;
}

export function bufferSource(buf: Buffer): ByteSource {
  return { size: buf.length, read: async (position, length) => buf.subarray(position, Math.min(buf.length, position + length)) };
}

// Small: a reader that jumps over image data should not pay for the bytes it jumps over.
const WINDOW = 4 * 1024;

/** A source over an open file; reads go through a 4 KiB window so small header reads are cheap. */
export function fileSource(handle: fsp.FileHandle, size: number, budget: number): ByteSource {
  let window = Buffer.alloc(0);
  let windowAt = 0;
  let spent = 0;
  return {
    size,
    async read(position, length) {
      if (position < 0 || position >= size || length <= 0) return Buffer.alloc(0);
      const end = Math.min(size, position + length);
      if (position >= windowAt && end <= windowAt + window.length) return window.subarray(position - windowAt, end - windowAt);
      const want = Math.min(Math.max(end - position, WINDOW), size - position, budget - spent);
      if (want <= 0) return Buffer.alloc(0);
      const buf = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await handle.read(buf, got, want - got, position + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      spent += got;
      window = buf.subarray(0, got);
      windowAt = position;
      return window.subarray(0, Math.min(got, end - position));
    },
  };
}
