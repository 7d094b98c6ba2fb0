/**
 * Rooms with the same title (two incidents on the same spindle) must not look
 * the same in the sidebar and in search: a twin title gets what tells the two
 * apart (its location when that differs, and when it was opened).
 */

export interface NamedRoom {
  room_id: string;
  title: string;
  location: string;
  created_at: string;
  status?: string;
}

const same = (a: string, b: string): boolean => a.trim().toLocaleLowerCase() === b.trim().toLocaleLowerCase();

/** The rooms other than `room` with the same title. */
export function twinsOf<R extends NamedRoom>(room: Pick<NamedRoom, 'room_id' | 'title'>, rooms: readonly R[]): R[] {
  return rooms.filter((r) => r.room_id !== room.room_id && same(r.title, room.title));
}

/** What to show after the title so twins differ; '' when the title is unique. */
export function titleDistinction(room: NamedRoom, rooms: readonly NamedRoom[], opened: (iso: string) => string): string {
  const twins = twinsOf(room, rooms);
  if (!twins.length) return '';
  const parts: string[] = [];
  if (room.location && twins.some((r) => r.location !== room.location)) parts.push(room.location);
  parts.push(opened(room.created_at));
  return parts.join(' · ');
}

/** An open room (not archived) with this title, if any: creating another one deserves a warning. */
export function openTwin<R extends NamedRoom>(title: string, rooms: readonly R[]): R | undefined {
  if (!title.trim()) return undefined;
  return rooms.find((r) => r.status !== 'archived' && same(r.title, title));
}
