// A client written from AUTOMATIC1111's documented web API (field names as strings, plain
// fetch), not from the server's own types, so the tests check what a real A1111 client sees.

import { inflateSync } from 'zlib';

export interface Answer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function call(base: string, method: 'GET' | 'POST', route: string, body?: unknown, init: { auth?: string; signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (init.auth) headers.Authorization = `Basic ${Buffer.from(init.auth).toString('base64')}`;
  const res = await fetch(`${base}${route}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: init.signal,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) };
}

export const txt2img = (base: string, body: Record<string, unknown>, init?: Parameters<typeof call>[4]) => call(base, 'POST', '/sdapi/v1/txt2img', body, init);
export const img2img = (base: string, body: Record<string, unknown>, init?: Parameters<typeof call>[4]) => call(base, 'POST', '/sdapi/v1/img2img', body, init);
export const progress = (base: string, init?: Parameters<typeof call>[4]) => call(base, 'GET', '/sdapi/v1/progress', undefined, init);

/** A PNG's text chunks (tEXt, and zTXt / iTXt when uncompressed or deflated), by keyword. */
export function pngText(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (png.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  for (let at = 8; at + 8 <= png.length;) {
    const len = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString('latin1');
    const data = png.subarray(at + 8, at + 8 + len);
    at += 12 + len;
    const nul = data.indexOf(0);
    if (type === 'tEXt') out[data.subarray(0, nul).toString('latin1')] = data.subarray(nul + 1).toString('latin1');
    else if (type === 'zTXt') out[data.subarray(0, nul).toString('latin1')] = inflateSync(data.subarray(nul + 2)).toString('latin1');
    else if (type === 'iTXt') {
      const key = data.subarray(0, nul).toString('latin1');
      const compressed = data[nul + 1] === 1;
      let p = nul + 3;
      p = data.indexOf(0, p) + 1; // language tag
      p = data.indexOf(0, p) + 1; // translated keyword
      const body = data.subarray(p);
      out[key] = (compressed ? inflateSync(body) : body).toString('utf8');
    }
  }
  return out;
}

/** The image data chunks only (IDAT): equal pixels, whatever the metadata's dates say. */
export function pngPixelsChunks(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const len = png.readUInt32BE(at);
    if (png.subarray(at + 4, at + 8).toString('latin1') === 'IDAT') parts.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  return Buffer.concat(parts);
}
