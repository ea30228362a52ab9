// Small validators for messages that arrive from another process or a webview.
// Each error names the field and what was expected, so the sender can be fixed.

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function reqString(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) {
    throw new ValidationError(`"${key}" must be a non-empty string`);
  }
  return v;
}

export function optString(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new ValidationError(`"${key}" must be a string`);
  return v;
}

export function optBoolean(o: Record<string, unknown>, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ValidationError(`"${key}" must be true or false`);
  return v;
}

export function optNumber(o: Record<string, unknown>, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`"${key}" must be a finite number`);
  return v;
}

export function optInteger(o: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = optNumber(o, key);
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new ValidationError(`"${key}" must be a whole number from ${min} to ${max}, got ${v}`);
  }
  return v;
}

/** A type guard for string unions kept as `as const` lists, so validated values need no cast. */
export function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
