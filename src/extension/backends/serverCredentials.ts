// Server credentials live in VS Code's SecretStorage (the OS keychain), never in settings, one
// entry per server origin: credentials saved for one server are never sent to another, even
// after courseIllustrator.backendUrl changes.

import { isRecord } from '../../core/validate';
import type { Credentials } from './generationBackend';

/** The part of vscode.SecretStorage used here, so tests can pass a Map. */
export interface SecretStore {
  get(key: string): Thenable<string | undefined>;
  store(key: string, value: string): Thenable<void>;
  delete(key: string): Thenable<void>;
}

/** The origin (scheme, host, port) of a server URL; undefined when it is not http(s). */
export function serverOrigin(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

function key(origin: string): string {
  return `courseIllustrator.server:${origin}`;
}

export async function readCredentials(store: SecretStore, url: string): Promise<Credentials | undefined> {
  const origin = serverOrigin(url);
  if (!origin) return undefined;
  const raw = await store.get(key(origin));
  if (!raw) return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    if (!isRecord(v)) return undefined;
    const s = (x: unknown) => (typeof x === 'string' ? x : undefined);
    return { user: s(v.user), password: s(v.password), token: s(v.token) };
  } catch {
    return undefined;
  }
}

export async function saveCredentials(store: SecretStore, url: string, credentials: Credentials | undefined): Promise<void> {
  const origin = serverOrigin(url);
  if (!origin) throw new Error(`${url} is not an http(s) address`);
  if (credentials) await store.store(key(origin), JSON.stringify(credentials));
  else await store.delete(key(origin));
}
