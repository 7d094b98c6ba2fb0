import { useT } from '../i18n';
import type { Room, RoomStatus, Severity } from '../protocol';
import { Icon } from './Icon';

export function StatusChip({ status }: { status: RoomStatus }) {
  const t = useT();
  return <span class={`chip chip-status status-${status}`}>{t(`status.${status}`)}</span>;
}

export function SeverityChip({ severity }: { severity: Severity }) {
  const t = useT();
  return <span class={`chip chip-sev sev-${severity}`}>{t(`severity.${severity}`)}</span>;
}

/** A room's status and severity chips, and its location when it has one. */
export function RoomChips({ room }: { room: Room }) {
  return (
    <>
      <StatusChip status={room.status} />
      <SeverityChip severity={room.severity} />
      {room.location && (
        <span class="room-location">
          <Icon name="pin" size={14} /> {room.location}
        </span>
      )}
    </>
  );
}
