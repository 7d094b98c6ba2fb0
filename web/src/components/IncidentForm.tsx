import { useState } from 'preact/hooks';
import { useT } from '../i18n';
import { READING_NAME, parseNumber } from '../lib/format';
import type { IncidentData } from '../protocol';
import { ErrorAlert, FormActions } from './Form';
import { Modal } from './Modal';

interface Row {
  name: string;
  value: string;
  unit: string;
}

interface Props {
  onClose: () => void;
  onSubmit: (data: IncidentData) => void;
}

/** Builds an incident_data message: machine, line, named readings with units, a note. */
export function IncidentForm({ onClose, onSubmit }: Props) {
  const t = useT();
  const [machine, setMachine] = useState('');
  const [line, setLine] = useState('');
  const [note, setNote] = useState('');
  const [rows, setRows] = useState<Row[]>([{ name: 'temperature', value: '', unit: '°C' }]);
  const [error, setError] = useState<string | null>(null);

  const setRow = (i: number, change: Partial<Row>): void =>
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : r)));

  const submit = (ev: Event): void => {
    ev.preventDefault();
    const readings: Record<string, number> = {};
    const units: Record<string, string> = {};
    for (const r of rows) {
      const name = r.name.trim().toLowerCase().replace(/\s+/g, '_');
      if (!name && !r.value.trim()) continue;
      if (!READING_NAME.test(name)) {
        setError(t('incident.badName', { name: r.name }));
        return;
      }
      const value = parseNumber(r.value);
      if (!Number.isFinite(value)) {
        setError(t('incident.badValue', { name }));
        return;
      }
      readings[name] = value;
      if (r.unit.trim()) units[name] = r.unit.trim();
    }
    if (!Object.keys(readings).length) {
      setError(t('incident.none'));
      return;
    }
    const data: IncidentData = { readings };
    if (machine.trim()) data.machine_id = machine.trim();
    if (line.trim()) data.line = line.trim();
    if (Object.keys(units).length) data.units = units;
    if (note.trim()) data.note = note.trim();
    onSubmit(data);
  };

  return (
    <Modal title={t('incident.title')} onClose={onClose}>
      <form class="form incident-form" onSubmit={submit}>
        <div class="form-row">
          <label>
            {t('incident.machine')}
            <input value={machine} onInput={(e) => setMachine(e.currentTarget.value)} placeholder="CNC-07" maxLength={100} />
          </label>
          <label>
            {t('incident.line')}
            <input value={line} onInput={(e) => setLine(e.currentTarget.value)} placeholder="L2" maxLength={100} />
          </label>
        </div>
        <fieldset>
          <legend>{t('readings.title')}</legend>
          {rows.map((r, i) => (
            <div class="reading-row" key={i}>
              <label>
                {t('incident.name')}
                <input value={r.name} onInput={(e) => setRow(i, { name: e.currentTarget.value })} placeholder={t('incident.namePlaceholder')} />
              </label>
              <label>
                {t('readings.value')}
                <input inputMode="decimal" value={r.value} onInput={(e) => setRow(i, { value: e.currentTarget.value })} placeholder="3.1" />
              </label>
              <label>
                {t('incident.unit')}
                <input value={r.unit} onInput={(e) => setRow(i, { unit: e.currentTarget.value })} placeholder={t('incident.unitPlaceholder')} />
              </label>
              <button
                type="button"
                class="icon-button"
                aria-label={t('incident.removeReading', { n: i + 1 })}
                disabled={rows.length === 1}
                onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
              >
                −
              </button>
            </div>
          ))}
          <button type="button" class="link-button" onClick={() => setRows((rs) => [...rs, { name: '', value: '', unit: '' }])}>
            {t('incident.addReading')}
          </button>
        </fieldset>
        <label>
          {t('incident.note')}
          <textarea value={note} rows={2} maxLength={2000} onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        <ErrorAlert error={error} />
        <FormActions onCancel={onClose}>
          <button type="submit" class="primary">
            {t('incident.send')}
          </button>
        </FormActions>
      </form>
    </Modal>
  );
}
