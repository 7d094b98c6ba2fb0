import { useMemo, useState } from 'preact/hooks';
import type { Room, RoomStatus, Severity } from '../protocol';
import { ROOM_STATUSES, SEVERITIES } from '../protocol';
import { navigate, roomHref } from '../router';
import { useSession } from '../session';
import { formatFullTime, formatMessageTime } from '../lib/time';
import { ErrorAlert, FormActions, SelectField, useBusyAction } from './Form';
import { Modal } from './Modal';
import { RoomChips } from './RoomChips';

type StatusFilter = RoomStatus | 'all';

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function RoomList() {
  const { rooms, roomsLoaded } = useSession();
  const [status, setStatus] = useState<StatusFilter>('active');
  const [text, setText] = useState('');
  const [creating, setCreating] = useState(false);

  const shown = useMemo(() => {
    const q = text.trim().toLowerCase();
    return rooms
      .filter((r) => status === 'all' || r.status === status)
      .filter(
        (r) =>
          !q ||
          r.title.toLowerCase().includes(q) ||
          r.location.toLowerCase().includes(q) ||
          r.lots.some((l) => l.toLowerCase().includes(q)),
      )
      .sort(
        (a, b) =>
          Date.parse(b.last_activity_at) - Date.parse(a.last_activity_at) ||
          SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity],
      );
  }, [rooms, status, text]);

  return (
    <section class="room-list-page" aria-labelledby="rooms-title">
      <div class="page-head">
        <h1 id="rooms-title">War rooms</h1>
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          New room
        </button>
      </div>
      <div class="room-filters">
        <SelectField<StatusFilter> label="Status" value={status} choices={ROOM_STATUSES} onChange={setStatus}>
          <option value="all">All</option>
        </SelectField>
        <label class="grow">
          Find a room
          <input
            type="search"
            placeholder="Title, location or lot"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </label>
      </div>
      {!roomsLoaded ? (
        <p role="status">Loading rooms…</p>
      ) : shown.length === 0 ? (
        <p class="muted">No rooms match.</p>
      ) : (
        <ul class="room-cards" aria-label="Rooms">
          {shown.map((r) => (
            <RoomCard key={r.room_id} room={r} />
          ))}
        </ul>
      )}
      {creating && <CreateRoomModal onClose={() => setCreating(false)} />}
    </section>
  );
}

function RoomCard({ room }: { room: Room }) {
  const unreadLabel = room.unread_count ? `${room.unread_count} unread` : '';
  const mentionLabel = room.mention_count
    ? `${room.mention_count} mention${room.mention_count === 1 ? '' : 's'}`
    : '';
  return (
    <li class={`room-card sev-${room.severity}${room.unread_count ? ' has-unread' : ''}`} data-room-id={room.room_id}>
      <a href={roomHref(room.room_id)} class="room-card-link">
        <div class="room-card-top">
          <h2 class="room-card-title">{room.title}</h2>
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
        </div>
        <div class="room-card-meta">
          <RoomChips room={room} />
        </div>
        {room.lots.length > 0 && (
          <div class="room-lots">
            Lots: {room.lots.join(', ')}
          </div>
        )}
        <div class="room-activity">
          Last activity{' '}
          <time dateTime={room.last_activity_at} title={formatFullTime(room.last_activity_at)}>
            {formatMessageTime(room.last_activity_at)}
          </time>
        </div>
      </a>
    </li>
  );
}

function CreateRoomModal({ onClose }: { onClose: () => void }) {
  const { api, reloadRooms } = useSession();
  const [title, setTitle] = useState('');
  const [severity, setSeverity] = useState<Severity>('medium');
  const [location, setLocation] = useState('');
  const [lots, setLots] = useState('');
  const { busy, error, run } = useBusyAction();

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
      });
      await reloadRooms();
      onClose();
      navigate(roomHref(room.room_id));
    });
  };

  return (
    <Modal title="New war room" onClose={onClose}>
      <form class="form" onSubmit={(e) => void submit(e)}>
        <label>
          Title
          <input required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <SelectField label="Severity" value={severity} choices={SEVERITIES} onChange={setSeverity} />
        <label>
          Location
          <input maxLength={200} value={location} onInput={(e) => setLocation(e.currentTarget.value)} placeholder="Plant 2, Line 3" />
        </label>
        <label>
          Lots (comma separated)
          <input value={lots} onInput={(e) => setLots(e.currentTarget.value)} placeholder="LOT-2405-01, LOT-2405-02" />
        </label>
        <ErrorAlert error={error} />
        <FormActions onCancel={onClose}>
          <button type="submit" class="primary" disabled={busy || !title.trim()}>
            Create room
          </button>
        </FormActions>
      </form>
    </Modal>
  );
}
