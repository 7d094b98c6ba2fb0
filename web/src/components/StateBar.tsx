import { useState } from 'preact/hooks';
import type { Api } from '../api';
import { useT } from '../i18n';
import type { Key } from '../i18n';
import { errorMessage } from '../lib/format';
import { NEXT_STATES, stateOf } from '../lib/record';
import type { IncidentState, Room } from '../protocol';

export const STATE_LABEL: Record<IncidentState, Key> = {
  declared: 'record.state.declared',
  acknowledged: 'record.state.acknowledged',
  contained: 'record.state.contained',
  resolved: 'record.state.resolved',
  closed: 'record.state.closed',
};

const MOVE_LABEL: Record<IncidentState, Key> = {
  declared: 'record.state.declared',
  acknowledged: 'record.move.acknowledged',
  contained: 'record.move.contained',
  resolved: 'record.move.resolved',
  closed: 'record.move.closed',
};

/**
 * The incident's lifecycle in the room header: where it is, who commands it, and
 * (for those who can write) the moves the server allows from here. A move is
 * announced to everyone as a system message; the room reloads on it.
 */
export function StateBar({
  room,
  api,
  canWrite,
  names,
  onMoved,
}: {
  room: Room;
  api: Api;
  canWrite: boolean;
  names: ReadonlyMap<string, string>;
  onMoved: () => Promise<void>;
}) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const state = stateOf(room);
  const reopening = state === 'resolved' || state === 'closed';
  const move = async (next: IncidentState): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await api.moveState(room.room_id, next);
      await onMoved();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const commander = room.commander_id ? (names.get(room.commander_id) ?? room.commander_id) : null;
  return (
    <div class="state-bar" role="group" aria-label={t('record.stateBar')} data-state={state}>
      <span class={`state-chip state-${state}`}>{t(STATE_LABEL[state])}</span>
      {commander && <span class="commander">{t('record.commander', { name: commander })}</span>}
      {canWrite &&
        NEXT_STATES[state].map((next) => (
          <button key={next} type="button" class="state-move" disabled={busy} onClick={() => void move(next)}>
            {reopening && next === 'acknowledged' ? t('record.reopen') : t(MOVE_LABEL[next])}
          </button>
        ))}
      {error && (
        <span class="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
