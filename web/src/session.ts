import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api';
import type { Auth } from './auth/auth';
import type { AppConfig } from './config';
import type { Me, Room } from './protocol';

/** Everything a signed-in screen needs, handed down once through context. */
export interface Session {
  config: AppConfig;
  auth: Auth;
  api: Api;
  me: Me;
  /** rooms I belong to, kept live by the user connection */
  rooms: Room[];
  roomsLoaded: boolean;
  reloadRooms: () => Promise<void>;
  updateRoom: (roomId: string, change: Partial<Room>) => void;
  /** the room on screen, so its unread count is not bumped while reading it */
  setOpenRoom: (roomId: string | null) => void;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in tree');
  return s;
}
