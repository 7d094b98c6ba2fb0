import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api } from '../api';
import { setTakeHandler, syncAppLanguage } from '../notify/push';
import { clearOfflineCache } from '../offline/cache';
import type { Auth, LocalAuth } from '../auth/auth';
import type { AppConfig } from '../config';
import { buildSocketUrl, Connection } from '../conn/socket';
import { errorMessage } from '../lib/format';
import type { ConnState } from '../conn/machine';
import { LocaleContext, currentLocale, setLocale, useT } from '../i18n';
import type { Locale } from '../i18n';
import { alertForMessage, pageIsUnattended, playChime, previewText } from '../notify/notifier';
import { loadPrefs } from '../notify/prefs';
import type { Me, NotificationFrame, Room } from '../protocol';
import { navigate, roomHref, searchHref, useRoute } from '../router';
import { SessionContext } from '../session';
import type { Session } from '../session';
import { ErrorAlert } from './Form';
import { FileOpener } from './FileOpener';
import { HelpDialog } from './HelpDialog';
import { Loading } from './Loading';
import { Login } from './Login';
import { RoomList, sortRooms } from './RoomList';
import { RoomPage } from './RoomPage';
import { RoomSidebar } from './RoomSidebar';
import { MetricsPage } from './MetricsPage';
import { SearchPage } from './SearchPage';
import { ConnectionBanner } from './ConnectionBanner';
import { Icon } from './Icon';
import { Toasts } from './Toasts';
import type { Toast } from './Toasts';
import { UserMenu } from './UserMenu';
import { useMediaQuery } from './useMediaQuery';
import { registerConnection } from '../debug';

interface Props {
  config: AppConfig;
  auth: Auth;
  initiallySignedIn: boolean;
}

/** Wide enough for the room list beside the open room. */
export const WIDE_QUERY = '(min-width: 900px)';

export function App({ config, auth, initiallySignedIn }: Props) {
  const [locale, setLocaleState] = useState<Locale>(currentLocale);
  const changeLocale = useCallback((l: Locale) => {
    setLocale(l);
    setLocaleState(l);
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
    syncAppLanguage();
  }, [locale]);
  return (
    <LocaleContext.Provider value={locale}>
      <AppBody config={config} auth={auth} initiallySignedIn={initiallySignedIn} changeLocale={changeLocale} />
    </LocaleContext.Provider>
  );
}

function AppBody({ config, auth, initiallySignedIn, changeLocale }: Props & { changeLocale: (l: Locale) => void }) {
  const t = useT();
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
    void clearOfflineCache().catch(() => undefined); // the next person sees nothing of ours
    auth.signOut();
    setMe(null);
    setSignedIn(false);
  }, [auth]);

  if (!signedIn) {
    if (auth.mode !== 'local') return <Loading text={t('app.signingIn')} />;
    return (
      <>
        <Login auth={auth as LocalAuth} apiBase={config.apiBase} onSignedIn={() => setSignedIn(true)} />
        <ErrorAlert error={error} />
      </>
    );
  }
  if (!me) return <Loading text={t('app.loading')} />;
  return <SignedIn config={config} auth={auth} api={api} me={me} signOut={signOut} changeLocale={changeLocale} />;
}

interface SignedInProps {
  config: AppConfig;
  auth: Auth;
  api: Api;
  me: Me;
  signOut: () => void;
  changeLocale: (l: Locale) => void;
}

const TOAST_MS = 10_000;

function SignedIn({ config, auth, api, me, signOut, changeLocale }: SignedInProps) {
  const t = useT();
  const route = useRoute();
  const wide = useMediaQuery(WIDE_QUERY);
  const [rooms, setRooms] = useState<Room[]>([]);
  const [roomsLoaded, setRoomsLoaded] = useState(false);
  const [userConn, setUserConn] = useState<ConnState | null>(null);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [help, setHelp] = useState(false);
  const openRoomRef = useRef<string | null>(null);
  const roomsRef = useRef<Room[]>([]);
  roomsRef.current = rooms;
  useEffect(() => {
    // "Take it" on a page's notification (issue 19)
    setTakeHandler((roomId) => void api.takeIncident(roomId).catch(() => undefined));
    return () => setTakeHandler(null);
  }, [api]);

  const reloadRooms = useCallback(async () => {
    const body = await api.rooms();
    // The open room's counts are what this page has not yet shown (the room
    // page keeps them); the server's are only as fresh as the last read mark.
    setRooms((old) =>
      body.rooms.map((r) => {
        const prev = r.room_id === openRoomRef.current ? old.find((o) => o.room_id === r.room_id) : undefined;
        return prev ? { ...r, unread_count: prev.unread_count, mention_count: prev.mention_count } : r;
      }),
    );
    setRoomsLoaded(true);
  }, [api]);

  const updateRoom = useCallback((roomId: string, change: Partial<Room>) => {
    setRooms((list) => list.map((r) => (r.room_id === roomId ? { ...r, ...change } : r)));
  }, []);

  const dismissToast = useCallback((id: string) => setToasts((list) => list.filter((x) => x.id !== id)), []);

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
      const roomTitle = known?.title ?? t('app.name');
      const alerted = alertForMessage(
        { roomId: frame.room_id, roomTitle, message: m, isMention },
        (roomId, messageId) => navigate(roomHref(roomId, messageId)),
      );
      // A mention elsewhere while the person is here: say so in the page, and
      // chime if they asked for sound (the system notification is for a hidden tab).
      if (isMention && !viewing && !pageIsUnattended()) {
        const id = m.message_id;
        setToasts((list) =>
          list.some((x) => x.id === id)
            ? list
            : [
                ...list.slice(-2),
                {
                  id,
                  roomId: frame.room_id,
                  messageId: m.message_id,
                  title: t('toast.mention', { name: m.sender_display_name, room: roomTitle }),
                  body: previewText(m),
                },
              ],
        );
        setTimeout(() => dismissToast(id), TOAST_MS);
        if (!alerted && loadPrefs().sound) playChime(true);
      }
    },
    [me.user_id, reloadRooms, dismissToast],
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

  // The tab title carries what is waiting: "(3 · @1) War Room".
  const unread = rooms.reduce((n, r) => n + r.unread_count, 0);
  const mentions = rooms.reduce((n, r) => n + r.mention_count, 0);
  useEffect(() => {
    const parts = [unread ? String(unread) : '', mentions ? `@${mentions}` : ''].filter(Boolean);
    document.title = parts.length ? `(${parts.join(' · ')}) ${t('app.name')}` : t('app.name');
  }, [unread, mentions, currentLocale()]);

  // Shortcuts that work anywhere: ? for help, Alt+↑/↓ between rooms.
  const ordered = useMemo(() => sortRooms(rooms.filter((r) => r.status !== 'archived')), [rooms]);
  const orderedRef = useRef(ordered);
  orderedRef.current = ordered;
  useEffect(() => {
    const onKey = (ev: KeyboardEvent): void => {
      if (document.querySelector('dialog[open]')) return;
      const target = ev.target as HTMLElement | null;
      const typing = !!target?.closest('input, textarea, select, [contenteditable="true"]');
      if (ev.key === '?' && !typing && !ev.altKey && !ev.ctrlKey && !ev.metaKey) {
        ev.preventDefault();
        setHelp(true);
        return;
      }
      if (ev.altKey && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
        const list = orderedRef.current;
        if (!list.length) return;
        ev.preventDefault();
        const at = list.findIndex((r) => r.room_id === openRoomRef.current);
        const step = ev.key === 'ArrowUp' ? -1 : 1;
        const next = at < 0 ? (step > 0 ? 0 : list.length - 1) : (at + step + list.length) % list.length;
        navigate(roomHref(list[next]!.room_id));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
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

  const openRoomId = route.name === 'room' ? route.roomId : null;
  const showSidebar = wide;
  // "Skip to the message box" only where there is one (not for a viewer, nor in an archived room).
  const openRoom = openRoomId ? rooms.find((r) => r.room_id === openRoomId) : undefined;
  const hasComposer = Boolean(openRoom && openRoom.my_role !== 'VIEWER' && openRoom.status !== 'archived');

  return (
    <SessionContext.Provider value={session}>
      <AppHeader
        skipLabel={hasComposer ? t('app.skipToComposer') : t('app.skipToContent')}
        me={me}
        signOut={signOut}
        initialQuery={route.name === 'search' ? route.q : ''}
        changeLocale={changeLocale}
        openHelp={() => setHelp(true)}
      />
      {route.name !== 'room' && userConn && <ConnectionBanner state={userConn} label={t('conn.liveUpdates')} />}
      <div class={`workspace${showSidebar ? ' with-sidebar' : ''}`}>
        {showSidebar && <RoomSidebar rooms={ordered} openRoomId={openRoomId} loaded={roomsLoaded} />}
        <main id="main" class={`main main-${route.name}`} tabIndex={-1}>
          {route.name === 'rooms' && <RoomList />}
          {route.name === 'search' && <SearchPage q={route.q} />}
          {route.name === 'file' && <FileOpener roomId={route.roomId} fileId={route.fileId} />}
          {route.name === 'metrics' && <MetricsPage />}
          {route.name === 'room' && (
            <RoomPage key={route.roomId} roomId={route.roomId} targetMessageId={route.messageId} wide={wide} />
          )}
        </main>
      </div>
      <Toasts
        toasts={toasts}
        onOpen={(toast) => {
          dismissToast(toast.id);
          navigate(roomHref(toast.roomId, toast.messageId));
        }}
        onDismiss={dismissToast}
      />
      {help && <HelpDialog onClose={() => setHelp(false)} />}
    </SessionContext.Provider>
  );
}

function AppHeader({
  skipLabel,
  me,
  signOut,
  initialQuery,
  changeLocale,
  openHelp,
}: {
  skipLabel: string;
  me: Me;
  signOut: () => void;
  initialQuery: string;
  changeLocale: (l: Locale) => void;
  openHelp: () => void;
}) {
  const t = useT();
  const [q, setQ] = useState(initialQuery);
  useEffect(() => setQ(initialQuery), [initialQuery]);
  return (
    <header class="app-header">
      {/* First on the page: one Tab and Enter reach the message box. */}
      <a
        class="skip-link"
        href="#composer"
        onClick={(ev) => {
          ev.preventDefault();
          const target = document.getElementById('composer-input') ?? document.getElementById('main');
          target?.focus();
        }}
      >
        {skipLabel}
      </a>
      <a class="brand" href="#/" aria-label={t('app.brandLabel')}>
        <span class="brand-mark">
          <Icon name="alert" size={20} />
        </span>
        <span class="brand-name">{t('app.name')}</span>
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
          aria-label={t('search.label')}
          placeholder={t('search.label')}
          value={q}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
      </form>
      <UserMenu me={me} signOut={signOut} changeLocale={changeLocale} openHelp={openHelp} />
    </header>
  );
}
