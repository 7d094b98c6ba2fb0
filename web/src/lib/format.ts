/** Small display helpers. */

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Reading names: a letter of any script first (溫度 is a name), then letters, digits and _. */
export const READING_NAME = /^\p{L}[\p{L}\p{N}_]{0,62}$/u;

export function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** The text to show for anything thrown or rejected. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
