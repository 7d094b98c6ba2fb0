import { useT } from '../i18n';
import { titleDistinction } from '../lib/roomNames';
import { formatFullTime, formatMessageTime } from '../lib/time';
import type { Room } from '../protocol';
import { roomHref } from '../router';
import { Loading } from './Loading';
import { Badges } from './RoomList';
import { StatusChip, SeverityChip } from './RoomChips';

/** Wide screens: every room beside the open one, with live badges. */
export function RoomSidebar({ rooms, openRoomId, loaded }: { rooms: Room[]; openRoomId: string | null; loaded: boolean }) {
  const t = useT();
  return (
    <nav class="sidebar" aria-label={t('sidebar.label')}>
      <div class="sidebar-head">
        <a href="#/" class="sidebar-all">
          {t('rooms.title')}
        </a>
      </div>
      {!loaded ? (
        <Loading className="muted sidebar-empty" text={t('rooms.loading')} />
      ) : rooms.length === 0 ? (
        <p class="muted sidebar-empty">{t('sidebar.empty')}</p>
      ) : (
        <ul class="sidebar-rooms">
          {rooms.map((r) => (
            <li key={r.room_id} data-sidebar-room-id={r.room_id} class={`sev-${r.severity}`}>
              <a
                href={roomHref(r.room_id)}
                class={`sidebar-room${r.unread_count ? ' has-unread' : ''}`}
                aria-current={r.room_id === openRoomId ? 'page' : undefined}
              >
                <span class="sidebar-room-top">
                  <span class="sidebar-room-title">
                    {r.title}
                    <TwinNote room={r} rooms={rooms} />
                  </span>
                  <Badges room={r} />
                </span>
                <span class="sidebar-room-meta">
                  <StatusChip status={r.status} />
                  <SeverityChip severity={r.severity} />
                  <time dateTime={r.last_activity_at} title={formatFullTime(r.last_activity_at)}>
                    {formatMessageTime(r.last_activity_at)}
                  </time>
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}

/** After a title another room shares: what tells them apart (location, when opened). */
export function TwinNote({ room, rooms }: { room: Room; rooms: readonly Room[] }) {
  const t = useT();
  const note = titleDistinction(room, rooms, (iso) => t('twins.opened', { time: formatMessageTime(iso) }));
  return note ? <small class="twin-note"> ({note})</small> : null;
}
