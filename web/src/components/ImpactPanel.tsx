import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { formatNumber, useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { fromLocalInput, toLocalInput } from '../lib/record';
import type { RoomMetrics } from '../lib/record';
import type { Room } from '../protocol';
import { ErrorAlert } from './Form';
import { LineFields } from './LineFields';
import type { LineChoice } from './LineFields';
import { Modal } from './Modal';

function minutes(seconds: number | null | undefined): string {
  return seconds === null || seconds === undefined ? '—' : formatNumber(Math.round(seconds / 6) / 10);
}

/**
 * Production impact (line, machine, stop reason, downtime start and end; empty =
 * declared → resolved) and the room's response times, read from the server.
 */
export function ImpactPanel({ room, api, canWrite, onClose }: { room: Room; api: Api; canWrite: boolean; onClose: () => void }) {
  const t = useT();
  const [metrics, setMetrics] = useState<RoomMetrics | null>(null);
  const [choice, setChoice] = useState<LineChoice>({
    line_id: room.line_id ?? '',
    machine: room.machine ?? '',
    stop_reason: room.stop_reason ?? '',
  });
  const [start, setStart] = useState(room.downtime_start ? toLocalInput(room.downtime_start) : '');
  const [end, setEnd] = useState(room.downtime_end ? toLocalInput(room.downtime_end) : '');
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState('');
  const load = (): void => {
    api
      .roomMetrics(room.room_id)
      .then(setMetrics)
      .catch((err: unknown) => setError(errorMessage(err)));
  };
  useEffect(load, [room.room_id, room.last_seq]);
  const save = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    setError(null);
    try {
      await api.updateImpact(room.room_id, {
        line_id: choice.line_id || null,
        machine: choice.machine.trim(),
        stop_reason: choice.stop_reason,
        downtime_start: start ? fromLocalInput(start) : null,
        downtime_end: end ? fromLocalInput(end) : null,
      });
      setSaved(t('record.impact.saved'));
      load();
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  return (
    <Modal title={t('record.impact.title')} onClose={onClose}>
      <dl class="impact-metrics" aria-label={t('record.impact.metrics')}>
        <dt>{t('record.impact.tta')}</dt>
        <dd data-metric="tta">{minutes(metrics?.time_to_acknowledge_s)}</dd>
        <dt>{t('record.impact.ttc')}</dt>
        <dd data-metric="ttc">{minutes(metrics?.time_to_contain_s)}</dd>
        <dt>{t('record.impact.ttr')}</dt>
        <dd data-metric="ttr">{minutes(metrics?.time_to_resolve_s)}</dd>
        <dt>{t('record.impact.downtime')}</dt>
        <dd data-metric="downtime">
          {metrics?.downtime_minutes === null || metrics?.downtime_minutes === undefined
            ? '—'
            : formatNumber(Math.round(metrics.downtime_minutes * 10) / 10)}
        </dd>
      </dl>
      {canWrite && (
        <form class="form" onSubmit={(e) => void save(e)}>
          <LineFields api={api} value={choice} onChange={setChoice} />
          <label>
            {t('record.impact.start')}
            <input type="datetime-local" value={start} onInput={(e) => setStart(e.currentTarget.value)} />
          </label>
          <label>
            {t('record.impact.end')}
            <input type="datetime-local" value={end} onInput={(e) => setEnd(e.currentTarget.value)} />
          </label>
          <ErrorAlert error={error} />
          <p class="visually-hidden" role="status">
            {saved}
          </p>
          <button type="submit" class="primary">
            {t('common.save')}
          </button>
        </form>
      )}
      {!canWrite && <ErrorAlert error={error} />}
    </Modal>
  );
}
