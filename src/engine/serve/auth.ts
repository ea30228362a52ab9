// HTTP Basic authentication as A1111's --api-auth: a list of `user:password` pairs, and a 401
// with `WWW-Authenticate: Basic` for a request without the right ones. Passwords are compared
// as SHA-256 digests with timingSafeEqual (equal lengths, constant time), and every entry is
// checked, so the answer's timing says nothing about which part was wrong.

import { createHash, timingSafeEqual } from 'crypto';
import { promises as fs } from 'fs';
import { badInput } from '../errors';

export interface Credential {
  user: Buffer;
  password: Buffer;
}

/** Reads `user:password` entries, one a line or comma-separated (A1111's form); `#` lines are comments. */
export async function loadCredentials(file: string): Promise<Credential[]> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw badInput(`--api-auth ${file} can't be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); give a file of user:password lines.`);
  }
  return parseCredentials(text, file);
}

export function parseCredentials(text: string, file = 'the --api-auth file'): Credential[] {
  const out: Credential[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim().startsWith('#')) return;
    for (const entry of line.split(',')) {
      const e = entry.trim();
      if (e === '') continue;
      const colon = e.indexOf(':');
      // Never the entry itself in the message: it holds a password.
      if (colon <= 0 || colon === e.length - 1) throw badInput(`${file}, line ${i + 1}: each entry must be user:password (both non-empty).`);
      out.push({ user: digest(e.slice(0, colon)), password: digest(e.slice(colon + 1)) });
    }
  });
  if (out.length === 0) throw badInput(`${file} has no user:password entry; add one per line, e.g. teacher:a-long-password.`);
  return out;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True when the Authorization header carries one of the credentials. */
export function isAuthorized(header: string | undefined, credentials: Credential[]): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return false;
  const user = digest(decoded.slice(0, colon));
  const password = digest(decoded.slice(colon + 1));
  let ok = false;
  for (const c of credentials) {
    // Both compared for every entry (no short-circuit), so timing does not tell a known user.
    const userOk = timingSafeEqual(user, c.user);
    const passOk = timingSafeEqual(password, c.password);
    ok = (userOk && passOk) || ok;
  }
  return ok;
}
