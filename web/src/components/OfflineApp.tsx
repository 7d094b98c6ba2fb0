/**
 * The app opened without a network (issue 19): what this device saved, read-only,
 * under a banner that says so. Nothing here offers to send; once the network is back
 * the page reloads into the live app (whose outbox queues text as before).
 */

import { useEffect, useState } from 'preact/hooks';
import { useT } from '../i18n';
import type { Message } from '../protocol';
import { cachedRooms, loadRoom } from '../offline/cache';
import type { CachedRoom } from '../offline/cache';
import { roomHref, useRoute } from '../router';

function plainText(m: Message): string {
  if (typeof m.content === 'string') return m.content;
  if (m.content && 'text' in m.content && typeof m.content.text === 'string') return m.content.text;
  return m.content ? JSON.stringify(m.content) : '';
}

export function OfflineApp() {
  const t = useT();
  const route = useRoute();
  const [rooms, setRooms] = useState<CachedRoom[] | null>(null);
  const [room, setRoom] = useState<CachedRoom | null | undefined>(undefined);

  useEffect(() => {
    void cachedRooms().then(setRooms);
  }, []);
  useEffect(() => {
    if (route.name !== 'room') {
      setRoom(undefined);
      return;
    }
    void loadRoom(route.roomId).then((found) => setRoom(found ?? null));
  }, [route]);
  useEffect(() => {
    const back = (): void => location.reload();
    window.addEventListener('online', back);
    return () => window.removeEventListener('online', back);
  }, []);

  return (
    <main class="offline-app">
      <p class="conn-banner offline-banner" role="status" data-offline="true">
        {t('offline.banner')}
      </p>
      {route.name === 'room' && room ? (
        <section aria-label={room.title}>
          <h1>{room.title}</h1>
          <p class="muted">{t('offline.savedAt', { time: new Date(room.saved_at).toLocaleString() })}</p>
          <ol class="offline-messages">
            {room.messages.filter((m) => m.content !== null).map((m) => (
              <li key={m.message_id} class="msg offline-msg">
                <strong>{m.sender_display_name}</strong> <span>{plainText(m)}</span>
              </li>
            ))}
          </ol>
        </section>
      ) : (
        <section>
          <h1>{t('offline.title')}</h1>
          {route.name === 'room' && room === null && <p>{t('offline.roomNotSaved')}</p>}
          {rooms && rooms.length === 0 && <p>{t('offline.nothingSaved')}</p>}
          <ul>
            {(rooms ?? []).map((r) => (
              <li key={r.room_id}>
                <a href={roomHref(r.room_id)}>{r.title}</a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </main>
  );
}
