/**
 * Each room's recent messages kept on this device (IndexedDB, through `idb`), so a room
 * opened offline shows what was there (issue 19). Written as the room page shows
 * messages; cleared on sign-out, so the next person on a shared device sees nothing.
 */

import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { Message, Room } from '../protocol';

export const KEEP_MESSAGES = 100;

export interface CachedRoom {
  room_id: string;
  title: string;
  messages: Message[];
  saved_at: string;
}

interface OfflineDb extends DBSchema {
  rooms: { key: string; value: CachedRoom };
}

let db: Promise<IDBPDatabase<OfflineDb>> | null = null;

function open(): Promise<IDBPDatabase<OfflineDb>> {
  db ??= openDB<OfflineDb>('warroom-offline', 1, {
    upgrade(database) {
      database.createObjectStore('rooms', { keyPath: 'room_id' });
    },
  });
  return db;
}

export function offlineCacheSupported(): boolean {
  return typeof indexedDB !== 'undefined';
}

/** The room's newest messages (system events included, as the page shows them). */
export async function saveRoom(room: Pick<Room, 'room_id' | 'title'>, messages: Message[]): Promise<void> {
  if (!offlineCacheSupported()) return;
  const recent = [...messages].sort((a, b) => a.sequence_number - b.sequence_number).slice(-KEEP_MESSAGES);
  await (await open()).put('rooms', {
    room_id: room.room_id,
    title: room.title,
    messages: recent,
    saved_at: new Date().toISOString(),
  });
}

export async function loadRoom(roomId: string): Promise<CachedRoom | undefined> {
  if (!offlineCacheSupported()) return undefined;
  return (await open()).get('rooms', roomId);
}

export async function cachedRooms(): Promise<CachedRoom[]> {
  if (!offlineCacheSupported()) return [];
  const all = await (await open()).getAll('rooms');
  return all.sort((a, b) => b.saved_at.localeCompare(a.saved_at));
}

export async function clearOfflineCache(): Promise<void> {
  if (!offlineCacheSupported()) return;
  await (await open()).clear('rooms');
}
