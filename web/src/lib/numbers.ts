/**
 * The one parser for a typed reading value. A wrong number in an incident is
 * worse than none, so anything that could be read two ways is refused with a
 * reason instead of being guessed: in Taiwan (and in English) `,` groups
 * thousands, but `2,1` is not a well-formed group; it is a decimal comma or a typo.
 */

export type ParsedNumber =
  | { ok: true; value: number }
  /** `ambiguous`: a comma that is not a thousands group; `suggestion` is the decimal reading (`2.1`). */
  | { ok: false; reason: 'empty' | 'invalid' | 'ambiguous'; suggestion?: string };

/** Full-width digits and signs (as an IME types them) to ASCII. */
function halfWidth(text: string): string {
  return text
    .replace(/[\uff10-\uff19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/\uff0c/g, ',')
    .replace(/[\uff0e\u3002]/g, '.')
    .replace(/[\uff0d\u2212]/g, '-')
    .replace(/\uff0b/g, '+');
}

// Digits, optionally in well-formed groups of three split by `,` (or by spaces
// as some locales print them), then an optional `.` fraction and exponent.
const WELL_FORMED = /^[-+]?(?:\d{1,3}(?:,\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)?(?:\.\d+)?(?:e[-+]?\d+)?$/i;
const DECIMAL_COMMA = /^([-+]?\d+),(\d+)$/;

export function parseReadingValue(text: string): ParsedNumber {
  const s = halfWidth(text).trim();
  if (!s) return { ok: false, reason: 'empty' };
  if (!/\d/.test(s) || !WELL_FORMED.test(s) || /^[-+]?e/i.test(s)) {
    const comma = DECIMAL_COMMA.exec(s);
    if (comma) return { ok: false, reason: 'ambiguous', suggestion: `${comma[1]}.${comma[2]}` };
    return { ok: false, reason: s.includes(',') ? 'ambiguous' : 'invalid' };
  }
  const value = Number(s.replace(/[, \u00a0\u202f]/g, ''));
  return Number.isFinite(value) ? { ok: true, value } : { ok: false, reason: 'invalid' };
}
