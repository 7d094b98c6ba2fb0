import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api } from '../api';
import type { Auth, LocalAuth } from '../auth/auth';
import type { AppConfig } from '../config';
import { buildSocketUrl, Connection } from '../conn/socket';
import { errorMessage } from '../lib/format';
import type { ConnState } from '../conn/machine';
import { alertForMessage } from '../notify/notifier';
import type { Me, NotificationFrame, Room } from '../protocol';
import { navigate, roomHref, searchHref, useRoute } from '../router';
import { SessionContext } from '../session';
import type { Session } from '../session';
import { ErrorAlert } from './Form';
import { Login } from './Login';
import { RoomList } from './RoomList';
import { RoomPage } from './RoomPage';
import { SearchPage } from './SearchPage';
import { ConnectionBanner } from './ConnectionBanner';
import { Icon } from './Icon';
import { registerConnection } from '../debug';

interface Props {
  config: AppConfig;
  auth: Auth;
  initiallySignedIn: boolean;
}

export function App({ config, auth, initiallySignedIn }: Props) {
  const [signedIn, setSignedIn] = useState(initiallySignedIn);
  const [me, setMe] = useState<Me | null>(null);
  const [error, setError] = useState<string | null>(null);
  const api = useMemo(() => new Api(config.apiBase, auth), [config, auth]);

  useEffect(() => {
    if (!signedIn) return;
    api
      .me()
      .then(setMe)
      .catch((err: unknown) => {
        setError(errorMessage(err));
        setSignedIn(false);
      });
  }, [signedIn, api]);

  const signOut = useCallback(() => {
    auth.signOut();
    setMe(null);
    setSignedIn(false);
  }, [auth]);

  if (!signedIn) {
    if (auth.mode !== 'local') return <p class="loading">Signing in…</p>;
    return (
      <>
        <Login auth={auth as LocalAuth} apiBase={config.apiBase} onSignedIn={() => setSignedIn(true)} />
        <ErrorAlert error={error} />
      </>
    );
  }
  if (!me) return <p class="loading" role="status">Loading…</p>;
  return <SignedIn config={config} auth={auth} api={api} me={me} signOut={signOut} />;
}

interface SignedInProps {
  config: AppConfig;
  auth: Auth;
  api: Api;
  me: Me;
  signOut: () => void;
}

function SignedIn({ config, auth, api, me, signOut }: SignedInProps) {
  const route = useRoute();
  const [rooms, setRooms] = useState<Room[]>([]);
  const [roomsLoaded, setRoomsLoaded] = useState(false);
  const [userConn, setUserConn] = useState<ConnState | null>(null);
  const openRoomRef = useRef<string | null>(null);
  const roomsRef = useRef<Room[]>([]);
  roomsRef.current = rooms;

  const reloadRooms = useCallback(async () => {
    const body = await api.rooms();
    setRooms(body.rooms);
    setRoomsLoaded(true);
  }, [api]);

  const updateRoom = useCallback((roomId: string, change: Partial<Room>) => {
    setRooms((list) => list.map((r) => (r.room_id === roomId ? { ...r, ...change } : r)));
  }, []);

  const onNotification = useCallback(
    (frame: NotificationFrame) => {
      const m = frame.message;
      if (m.sender_id === me.user_id) return;
      const isMention = frame.event === 'mention' || m.mentions.includes(me.user_id);
      const viewing = openRoomRef.current === frame.room_id;
      const known = roomsRef.current.find((r) => r.room_id === frame.room_id);
      if (!known) {
        void reloadRooms(); // added to a room since the list was loaded
      } else {
        setRooms((list) =>
          list.map((r) =>
            r.room_id !== frame.room_id
              ? r
              : {
                  ...r,
                  last_activity_at: m.created_at,
                  last_seq: Math.max(r.last_seq, m.sequence_number),
                  unread_count: viewing ? r.unread_count : r.unread_count + 1,
                  mention_count: viewing || !isMention ? r.mention_count : r.mention_count + 1,
                },
          ),
        );
      }
      alertForMessage(
        { roomId: frame.room_id, roomTitle: known?.title ?? 'War room', message: m, isMention },
        (roomId, messageId) => navigate(roomHref(roomId, messageId)),
      );
    },
    [me.user_id, reloadRooms],
  );

  // The user connection: notification frames for all my rooms keep the room
  // list's badges live and raise alerts for rooms not on screen.
  const onNotificationRef = useRef(onNotification);
  onNotificationRef.current = onNotification;
  useEffect(() => {
    void reloadRooms().catch(() => setRoomsLoaded(true));
    const conn = new Connection({
      room: false,
      url: async () => buildSocketUrl(config.wsUrl, await auth.getToken()),
      onFrame: (frame) => {
        if (frame.type === 'notification') onNotificationRef.current(frame);
      },
      onState: setUserConn,
    });
    conn.start();
    registerConnection('user', conn);
    return () => {
      conn.stop();
      registerConnection('user', undefined);
    };
  }, [api, auth, config.wsUrl, reloadRooms]);

  // Reconnecting may have missed notifications: refresh the counts.
  const wasOpen = useRef(false);
  useEffect(() => {
    const open = userConn?.status === 'open';
    if (open && !wasOpen.current && roomsLoaded) void reloadRooms().catch(() => undefined);
    wasOpen.current = open;
  }, [userConn?.status]);

  const setOpenRoom = useCallback((roomId: string | null) => {
    openRoomRef.current = roomId;
  }, []);

  const session: Session = {
    config,
    auth,
    api,
    me,
    rooms,
    roomsLoaded,
    reloadRooms,
    updateRoom,
    setOpenRoom,
    signOut,
  };

  return (
    <SessionContext.Provider value={session}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <AppHeader me={me} signOut={signOut} initialQuery={route.name === 'search' ? route.q : ''} />
      {route.name !== 'room' && userConn && <ConnectionBanner state={userConn} label="Live updates" />}
      <main id="main" class={`main main-${route.name}`} tabIndex={-1}>
        {route.name === 'rooms' && <RoomList />}
        {route.name === 'search' && <SearchPage q={route.q} />}
        {route.name === 'room' && (
          <RoomPage key={route.roomId} roomId={route.roomId} targetMessageId={route.messageId} />
        )}
      </main>
    </SessionContext.Provider>
  );
}

function AppHeader({ me, signOut, initialQuery }: { me: Me; signOut: () => void; initialQuery: string }) {
  const [q, setQ] = useState(initialQuery);
  useEffect(() => setQ(initialQuery), [initialQuery]);
  return (
    <header class="app-header">
      <a class="brand" href="#/" aria-label="War rooms — room list">
        <span class="brand-mark">
          <Icon name="alert" size={20} />
        </span>
        <span class="brand-name">War Room</span>
      </a>
      <form
        class="global-search"
        role="search"
        onSubmit={(ev) => {
          ev.preventDefault();
          if (q.trim()) navigate(searchHref(q.trim()));
        }}
      >
        <input
          type="search"
          aria-label="Search messages"
          placeholder="Search messages"
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
      </form>
      <div class="me">
        <span class="me-name" title={me.user_id}>
          {me.display_name}
        </span>
        <button type="button" class="link-button" onClick={signOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}
