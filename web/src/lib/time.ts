/**
 * Times are shown in GMT+8 (Asia/Taipei) whatever the browser's zone: the
 * factory runs on Taipei time and everyone in a war room must read the same
 * clock. Taipei has had no daylight saving since 1979, so a fixed +8 h offset
 * is exact, and doing the arithmetic on UTC fields keeps it independent of the
 * machine's zone (unlike Date#getHours).
 */

const OFFSET_MS = 8 * 60 * 60 * 1000;

const pad = (n: number): string => String(n).padStart(2, '0');

/** The wall-clock fields in GMT+8 of an instant. */
function taipeiFields(instant: Date): { y: number; mo: number; d: number; h: number; mi: number } {
  const shifted = new Date(instant.getTime() + OFFSET_MS);
  return {
    y: shifted.getUTCFullYear(),
    mo: shifted.getUTCMonth() + 1,
    d: shifted.getUTCDate(),
    h: shifted.getUTCHours(),
    mi: shifted.getUTCMinutes(),
  };
}

function toDate(value: string | Date): Date {
  return value instanceof Date ? value : new Date(value);
}

/** The GMT+8 calendar day of an instant as YYYY-MM-DD, for grouping and "today". */
export function taipeiDay(value: string | Date): string {
  const f = taipeiFields(toDate(value));
  return `${f.y}-${pad(f.mo)}-${pad(f.d)}`;
}

/**
 * A message time: "HH:mm" when it is today in GMT+8, "MM/DD HH:mm" otherwise.
 * `now` is passed in so tests (and a long-open tab at midnight) decide "today".
 */
export function formatMessageTime(value: string | Date, now: Date = new Date()): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '';
  const f = taipeiFields(date);
  const hm = `${pad(f.h)}:${pad(f.mi)}`;
  return taipeiDay(date) === taipeiDay(now) ? hm : `${pad(f.mo)}/${pad(f.d)} ${hm}`;
}

/** The full instant for a tooltip: "YYYY-MM-DD HH:mm GMT+8". */
export function formatFullTime(value: string | Date): string {
  const date = toDate(value);
  if (Number.isNaN(date.getTime())) return '';
  const f = taipeiFields(date);
  return `${f.y}-${pad(f.mo)}-${pad(f.d)} ${pad(f.h)}:${pad(f.mi)} GMT+8`;
}

/** An ISO string for <time datetime>, kept in UTC as it came from the server. */
export function isoUtc(value: string | Date): string {
  const date = toDate(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

/**
 * A day divider's label for a GMT+8 day (YYYY-MM-DD): "Today", "Yesterday",
 * else the date written the language's way (2026年12月2日 星期三 / Wed, Dec 2, 2026).
 * The day is already in GMT+8, so it is formatted as a UTC date.
 */
export function formatDayLabel(
  day: string,
  words: { today: string; yesterday: string },
  locale: string,
  now: Date = new Date(),
): string {
  const today = taipeiDay(now);
  if (day === today) return words.today;
  if (day === taipeiDay(new Date(now.getTime() - 24 * 60 * 60 * 1000))) return words.yesterday;
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(Date.UTC(y!, m! - 1, d!));
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(locale, {
    timeZone: 'UTC',
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
  }).format(date);
}
