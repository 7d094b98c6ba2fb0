/**
 * A small handle on the live connections, for diagnosing from the console and
 * for browser tests (`window.__warroom.room.dropSocket()` simulates a network
 * failure). It exposes nothing the page itself could not already do.
 */
import type { Connection } from './conn/socket';

interface DebugHandle {
  room?: Connection;
  user?: Connection;
}

export function registerConnection(kind: keyof DebugHandle, conn: Connection | undefined): void {
  const w = window as unknown as { __warroom?: DebugHandle };
  w.__warroom ??= {};
  if (conn) w.__warroom[kind] = conn;
  else delete w.__warroom[kind];
}
