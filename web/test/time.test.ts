import { afterEach, describe, expect, it } from 'vitest';
import { formatDayLabel, formatFullTime, formatMessageTime, taipeiDay } from '../src/lib/time';

// Node's process.env, without pulling all of @types/node into a browser project.
declare const process: { env: Record<string, string | undefined> };

// Run by `npm test` under the machine's zone and again under America/New_York;
// the zone loop below also switches TZ inside one process (Node honours it).
const ORIGINAL_TZ = process.env.TZ;
afterEach(() => {
  if (ORIGINAL_TZ === undefined) delete process.env.TZ;
  else process.env.TZ = ORIGINAL_TZ;
});

describe('formatMessageTime (GMT+8)', () => {
  it('shows HH:mm for a message sent today in Taipei', () => {
    // Given a message at 01:30 UTC, which is 09:30 in Taipei
    const sent = '2025-03-10T01:30:00.000000Z';
    // When it is read later the same Taipei day
    const now = new Date('2025-03-10T10:00:00Z'); // 18:00 Taipei
    // Then only the time shows
    expect(formatMessageTime(sent, now)).toBe('09:30');
  });

  it('shows MM/DD HH:mm for an older message', () => {
    const sent = '2025-03-09T01:30:00Z';
    const now = new Date('2025-03-10T10:00:00Z');
    expect(formatMessageTime(sent, now)).toBe('03/09 09:30');
  });

  it('decides "today" by the Taipei calendar, not UTC', () => {
    // Given 23:30 UTC on the 9th, already 07:30 on the 10th in Taipei
    const sent = '2025-03-09T23:30:00Z';
    // When it is 00:10 UTC on the 10th (08:10 Taipei)
    expect(formatMessageTime(sent, new Date('2025-03-10T00:10:00Z'))).toBe('07:30');
    // And a message at 15:59 UTC on the 9th is 23:59 Taipei on the 9th: yesterday
    expect(formatMessageTime('2025-03-09T15:59:00Z', new Date('2025-03-09T16:00:00Z'))).toBe('03/09 23:59');
  });

  it('rolls over at Taipei midnight (16:00 UTC)', () => {
    expect(taipeiDay('2025-12-31T15:59:59Z')).toBe('2025-12-31');
    expect(taipeiDay('2025-12-31T16:00:00Z')).toBe('2026-01-01');
    expect(formatMessageTime('2025-12-31T16:00:00Z', new Date('2026-01-01T03:00:00Z'))).toBe('00:00');
  });

  it('gives the same answer in every machine time zone, across DST changes', () => {
    const cases: Array<[string, string]> = [
      ['2025-03-09T06:59:00Z', '2025-03-09T07:30:00Z'], // US DST starts that morning
      ['2025-10-26T00:30:00Z', '2025-10-27T12:00:00Z'], // EU DST ends
      ['2024-02-29T16:05:00Z', '2024-03-01T01:00:00Z'], // leap day into March in Taipei
    ];
    const expected = cases.map(([sent, now]) => formatMessageTime(sent, new Date(now)));
    for (const tz of ['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Taipei', 'Pacific/Kiritimati', 'America/St_Johns']) {
      process.env.TZ = tz;
      expect(cases.map(([sent, now]) => formatMessageTime(sent, new Date(now)))).toEqual(expected);
    }
    expect(expected).toEqual(['14:59', '10/26 08:30', '00:05']);
  });

  it('formats a full tooltip time and ignores garbage', () => {
    expect(formatFullTime('2025-03-10T01:30:00Z')).toBe('2025-03-10 09:30 GMT+8');
    expect(formatMessageTime('not a date')).toBe('');
  });

  it('parses the server microsecond timestamps', () => {
    expect(formatMessageTime('2025-03-10T01:30:45.123456Z', new Date('2025-03-10T02:00:00Z'))).toBe('09:30');
  });
});


describe('formatDayLabel', () => {
  const words = { today: 'Today', yesterday: 'Yesterday' };
  // 2026-12-02 00:30 in GMT+8 is still 2026-12-01 in UTC
  const now = new Date('2026-12-01T16:30:00Z');
  it('says Today and Yesterday by the GMT+8 calendar', () => {
    expect(formatDayLabel('2026-12-02', words, 'en', now)).toBe('Today');
    expect(formatDayLabel('2026-12-01', words, 'en', now)).toBe('Yesterday');
  });
  it('writes older days in the language', () => {
    expect(formatDayLabel('2026-11-28', words, 'en', now)).toBe('Sat, Nov 28, 2026');
    expect(formatDayLabel('2026-11-28', words, 'zh-TW', now)).toContain('2026年11月28日');
  });
});
