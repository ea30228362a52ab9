// A type guard for string unions kept as `as const` lists, so validated values need no cast.

export function isOneOf<T extends string>(allowed: readonly T[], value: string): value is T {
  return (allowed as readonly string[]).includes(value);
}
