import { capitalize } from '../lib/format';
import type { Room } from '../protocol';
import { Icon } from './Icon';

/** A room's status and severity chips, and its location when it has one. */
export function RoomChips({ room }: { room: Room }) {
  return (
    <>
      <span class={`chip chip-status status-${room.status}`}>{capitalize(room.status)}</span>
      <span class={`chip chip-sev sev-${room.severity}`}>{capitalize(room.severity)}</span>
      {room.location && (
        <span class="room-location">
          <Icon name="pin" size={14} /> {room.location}
        </span>
      )}
    </>
  );
}
