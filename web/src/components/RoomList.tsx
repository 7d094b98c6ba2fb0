import { useMemo, useState } from 'preact/hooks';
import { tn, useT } from '../i18n';
import { openTwin } from '../lib/roomNames';
import type { Room, RoomStatus, Severity } from '../protocol';
import { ROOM_STATUSES, SEVERITIES } from '../protocol';
import { navigate, roomHref } from '../router';
import { useSession } from '../session';
import { formatFullTime, formatMessageTime } from '../lib/time';
import { ErrorAlert, FormActions, SelectField, useBusyAction } from './Form';
import { Loading } from './Loading';
import { Modal } from './Modal';
import { RoomChips } from './RoomChips';
import { LineFields } from './LineFields';
import type { LineChoice } from './LineFields';

type StatusFilter = RoomStatus | 'all';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Newest activity first; the more severe first on a tie. */
export function sortRooms(rooms: readonly Room[]): Room[] {
  return [...rooms].sort(
    (a, b) =>
      Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) ||
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity],
  );
}

export function RoomList() {
  const t = useT();
  const { rooms, roomsLoaded } = useSession();
  const [status, setStatus] = useState<StatusFilter>('active');
  const [text, setText] = useState('');
  const [creating, setCreating] = useState(false);

  const shown = useMemo(() => {
    const q = text.trim().toLowerCase();
    return sortRooms(
      rooms
        .filter((r) => status === 'all' || r.status === status)
        .filter(
          (r) =>
            !q ||
            r.title.toLowerCase().includes(q) ||
            r.location.toLowerCase().includes(q) ||
            r.lots.some((l) => l.toLowerCase().includes(q)),
        ),
    );
  }, [rooms, status, text]);

  return (
    <section class="room-list-page" aria-labelledby="rooms-title">
      <div class="page-head">
        <h1 id="rooms-title">{t('rooms.title')}</h1>
        <a class="button-link" href="#/metrics">
          {t('record.metrics.link')}
        </a>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          {t('rooms.new')}
        </button>
      </div>
      <div class="room-filters">
        <SelectField<StatusFilter>
          label={t('rooms.status')}
          value={status}
          choices={ROOM_STATUSES}
          onChange={setStatus}
          format={(s) => t(`status.${s as RoomStatus}`)}
        >
          <option value="all">{t('rooms.all')}</option>
        </SelectField>
        <label class="grow">
          {t('rooms.find')}
          <input type="search" placeholder={t('rooms.findPlaceholder')} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
      </div>
      {!roomsLoaded ? (
        <Loading inline text={t('rooms.loading')} />
      ) : shown.length === 0 ? (
        <div class="empty-state">
          <p>{rooms.length === 0 ? t('rooms.none') : t('rooms.noMatch')}</p>
        </div>
      ) : (
        <ul class="room-cards" aria-label={t('rooms.listLabel')}>
          {shown.map((r) => (
            <RoomCard key={r.room_id} room={r} />
          ))}
        </ul>
      )}
      {creating && <CreateRoomModal onClose={() => setCreating(false)} />}
    </section>
  );
}

/** Mention and unread badges, with their meaning in words for screen readers. */
export function Badges({ room }: { room: Room }) {
  useT();
  const unreadLabel = room.unread_count ? tn('badge.unreadOne', 'badge.unreadOther', room.unread_count) : '';
  const mentionLabel = room.mention_count ? tn('badge.mentionOne', 'badge.mentionOther', room.mention_count) : '';
  return (
    <span class="badges">
      {room.mention_count > 0 && (
        <span class="badge badge-mention" aria-label={mentionLabel} title={mentionLabel}>
          @{room.mention_count}
        </span>
      )}
      {room.unread_count > 0 && (
        <span class="badge badge-unread" aria-label={unreadLabel} title={unreadLabel}>
          {room.unread_count}
        </span>
      )}
    </span>
  );
}

function RoomCard({ room }: { room: Room }) {
  const t = useT();
  return (
    <li class={`room-card sev-${room.severity}${room.unread_count ? ' has-unread' : ''}`} data-room-id={room.room_id}>
      <a href={roomHref(room.room_id)} class="room-card-link">
        <div class="room-card-top">
          <h2 class="room-card-title">{room.title}</h2>
          <Badges room={room} />
        </div>
        <div class="room-card-meta">
          <RoomChips room={room} />
        </div>
        {room.lots.length > 0 && <div class="room-lots">{t('room.lots', { lots: room.lots.join(', ') })}</div>}
        <div class="room-activity">
          {t('rooms.lastActivity')}{' '}
          <time dateTime={room.last_activity_at} title={formatFullTime(room.last_activity_at)}>
            {formatMessageTime(room.last_activity_at)}
          </time>
        </div>
      </a>
    </li>
  );
}

function CreateRoomModal({ onClose }: { onClose: () => void }) {
  const t = useT();
  const { api, reloadRooms, rooms } = useSession();
  const [title, setTitle] = useState('');
  const [severity, setSeverity] = useState<Severity>('medium');
  const [location, setLocation] = useState('');
  const [lots, setLots] = useState('');
  const [onLine, setOnLine] = useState<LineChoice>({ line_id: '', machine: '', stop_reason: '' });
  const { busy, error, run } = useBusyAction();
  // Two incidents with one title look the same everywhere: say so before a second is made.
  const twin = openTwin(title, rooms);

  const submit = (ev: Event): Promise<void> => {
    ev.preventDefault();
    return run(async () => {
      const room = await api.createRoom({
        title: title.trim(),
        severity,
        location: location.trim(),
        lots: lots
          .split(/[,\s]+/)
          .map((l) => l.trim())
          .filter(Boolean),
        ...(onLine.line_id ? { line_id: onLine.line_id, machine: onLine.machine.trim(), stop_reason: onLine.stop_reason } : {}),
      });
      await reloadRooms();
      onClose();
      navigate(roomHref(room.room_id));
    });
  };

  return (
    <Modal title={t('create.title')} onClose={onClose}>
      <form class="form" onSubmit={(e) => void submit(e)}>
        <label>
          {t('create.roomTitle')}
          <input required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        {twin && (
          <p class="viewer-warning" role="status">
            {t('twins.createWarning', { time: formatMessageTime(twin.created_at) })}{' '}
            <a href={roomHref(twin.room_id)} onClick={onClose}>
              {t('twins.openIt')}
            </a>
          </p>
        )}
        <SelectField
          label={t('create.severity')}
          value={severity}
          choices={SEVERITIES}
          onChange={setSeverity}
          format={(s) => t(`severity.${s}`)}
        />
        <label>
          {t('create.location')}
          <input maxLength={200} value={location} onInput={(e) => setLocation(e.currentTarget.value)} placeholder={t('create.locationPlaceholder')} />
        </label>
        <label>
          {t('create.lots')}
          <input value={lots} onInput={(e) => setLots(e.currentTarget.value)} placeholder={t('create.lotsPlaceholder')} />
        </label>
        <LineFields api={api} value={onLine} onChange={setOnLine} />
        <ErrorAlert error={error} />
        <FormActions onCancel={onClose}>
          <button type="submit" class="primary" disabled={busy || !title.trim()}>
            {t('create.submit')}
          </button>
        </FormActions>
      </form>
    </Modal>
  );
}
