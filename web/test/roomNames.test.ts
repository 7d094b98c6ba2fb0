import { describe, expect, it } from 'vitest';
import { openTwin, titleDistinction } from '../src/lib/roomNames';

const room = (id: string, title: string, location = 'Plant B / Line 3', created_at = '2026-12-06T01:00:00Z', status = 'active') => ({
  room_id: id,
  title,
  location,
  created_at,
  status,
});
const opened = (iso: string): string => `opened ${iso.slice(11, 16)}`;

describe('rooms with the same title', () => {
  const a = room('a', 'Line 3 CNC spindle overheating', 'Plant B / Line 3', '2026-12-06T01:00:00Z');
  const b = room('b', 'line 3 cnc spindle overheating ', 'Plant B / Line 3', '2026-12-06T02:30:00Z');
  const c = room('c', 'Oven 2 stopped');

  it('get what tells them apart, and a unique title gets nothing', () => {
    // Given two rooms whose titles differ only in case and spaces, and a third
    // Then each twin shows when it was opened, and the unique one shows nothing
    expect(titleDistinction(a, [a, b, c], opened)).toBe('opened 01:00');
    expect(titleDistinction(b, [a, b, c], opened)).toBe('opened 02:30');
    expect(titleDistinction(c, [a, b, c], opened)).toBe('');
  });

  it('show the location too when it differs', () => {
    const elsewhere = room('d', a.title, 'Plant A / Line 3', '2026-12-06T03:00:00Z');
    expect(titleDistinction(elsewhere, [a, elsewhere], opened)).toBe('Plant A / Line 3 · opened 03:00');
  });

  it('warn before creating an incident with the title of an open one, not an archived one', () => {
    expect(openTwin(' LINE 3 cnc spindle overheating', [c, a])?.room_id).toBe('a');
    expect(openTwin(a.title, [room('z', a.title, '', '2026-01-01T00:00:00Z', 'archived')])).toBeUndefined();
    expect(openTwin('', [a])).toBeUndefined();
  });
});
