// Numbers as people read them, for every front end (CLI, extension, webviews). Durations are
// taken in milliseconds, sizes in bytes; each function says what it makes. Pure.

/** 1536 -> "1.5 KB"; decimal units like the hub and file managers show; unknown -> "?". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Whole seconds in `ms`, or undefined for an unknown duration (negative, NaN, infinite). */
function wholeSeconds(ms: number): number | undefined {
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

/**
 * A duration in milliseconds as words, to the second: 12_300 -> "12 s", 65_000 -> "1 min 05 s",
 * 3_900_000 -> "1 h 05 min". Unknown (negative, NaN) -> "" so callers can leave it out.
 */
export function formatDurationWords(ms: number): string {
  const s = wholeSeconds(ms);
  if (s === undefined) return '';
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * A duration in milliseconds as a clock, to the second: 42_000 -> "0:42", 3_725_000 ->
 * "1:02:05". Unknown (negative, NaN) -> "".
 */
export function formatDurationClock(ms: number): string {
  const s = wholeSeconds(ms);
  if (s === undefined) return '';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}
