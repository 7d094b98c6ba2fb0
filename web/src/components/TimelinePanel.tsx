import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { fromLocalInput, toLocalInput } from '../lib/record';
import type { TimelineEntry } from '../lib/record';
import { formatFullTime } from '../lib/time';
import type { Message } from '../protocol';
import { ErrorAlert } from './Form';
import { Modal } from './Modal';
import { STATE_LABEL } from './StateBar';

/** What a pinned message says, in one line. */
function pinnedText(m: Message | null | undefined): string {
  if (!m) return '';
  if (typeof m.content === 'string' && m.content) return m.content;
  if (m.file) return m.file.filename;
  if (m.content && typeof m.content === 'object') {
    const readings = (m.content as { readings?: Record<string, unknown> }).readings ?? m.content;
    return Object.entries(readings)
      .filter(([, v]) => typeof v === 'number')
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(', ');
  }
  return '';
}

/**
 * The incident's curated timeline, in event-time order: milestones, severity
 * changes, handovers and pinned messages. Writers change a pin's event time
 * (when it really happened) or unpin it; the time it was recorded is kept.
 */
export function TimelinePanel({
  roomId,
  api,
  canWrite,
  names,
  version,
  onClose,
}: {
  roomId: string;
  api: Api;
  canWrite: boolean;
  names: ReadonlyMap<string, string>;
  /** changes when the room hears of a change: the timeline is read again */
  version: number;
  onClose: () => void;
}) {
  const t = useT();
  const [entries, setEntries] = useState<TimelineEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [when, setWhen] = useState('');
  const load = (): void => {
    api
      .timeline(roomId)
      .then((b) => setEntries(b.entries))
      .catch((err: unknown) => setError(errorMessage(err)));
  };
  useEffect(load, [roomId, version]);

  const act = async (action: () => Promise<unknown>): Promise<void> => {
    setError(null);
    try {
      await action();
      setEditing(null);
      load();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const describe = (e: TimelineEntry): string => {
    if (e.kind === 'milestone' && e.state) {
      const text = t('record.timeline.milestone', { who: e.by_display_name, state: t(STATE_LABEL[e.state]) });
      return e.note ? `${text}: ${e.note}` : text;
    }
    if (e.kind === 'severity') return t('record.timeline.severity', { who: e.by_display_name, severity: e.severity ?? '' });
    if (e.kind === 'handover') return t('record.timeline.handover', { who: e.by_display_name, name: names.get(e.commander_id ?? '') ?? e.commander_id ?? '' });
    return t('record.timeline.pin', { who: e.by_display_name, text: pinnedText(e.message) });
  };

  return (
    <Modal title={t('record.timeline.title')} onClose={onClose} wide>
      <ErrorAlert error={error} />
      {entries === null ? (
        <p class="muted">{t('app.loading')}</p>
      ) : entries.length === 0 ? (
        <p class="muted">{t('record.timeline.none')}</p>
      ) : (
        <ol class="timeline-list" aria-label={t('record.timeline.title')}>
          {entries.map((e) => (
            <li key={e.entry_id} class={`timeline-entry kind-${e.kind}`} data-kind={e.kind}>
              <time dateTime={e.event_time}>{formatFullTime(e.event_time)}</time>
              <span class="timeline-text">{describe(e)}</span>
              {e.kind === 'pin' && e.recorded_at !== e.event_time && (
                <span class="muted timeline-recorded">{t('record.timeline.recorded', { time: formatFullTime(e.recorded_at) })}</span>
              )}
              {e.kind === 'pin' && canWrite && e.message_id && (
                <span class="timeline-actions">
                  {editing === e.entry_id ? (
                    <form
                      class="timeline-time-form"
                      onSubmit={(ev) => {
                        ev.preventDefault();
                        void act(() => api.pin(roomId, e.message_id!, fromLocalInput(when)));
                      }}
                    >
                      <label>
                        {t('record.timeline.eventTime')}
                        <input type="datetime-local" required value={when} onInput={(ev) => setWhen(ev.currentTarget.value)} />
                      </label>
                      <button type="submit">{t('common.save')}</button>
                      <button type="button" class="link-button" onClick={() => setEditing(null)}>
                        {t('common.cancel')}
                      </button>
                    </form>
                  ) : (
                    <>
                      <button
                        type="button"
                        class="link-button"
                        onClick={() => {
                          setWhen(toLocalInput(e.event_time));
                          setEditing(e.entry_id);
                        }}
                      >
                        {t('record.timeline.editTime')}
                      </button>
                      <button type="button" class="link-button" onClick={() => void act(() => api.unpin(roomId, e.message_id!))}>
                        {t('record.timeline.unpin')}
                      </button>
                    </>
                  )}
                </span>
              )}
            </li>
          ))}
        </ol>
      )}
    </Modal>
  );
}
