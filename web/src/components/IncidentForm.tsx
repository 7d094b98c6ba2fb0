import { useRef, useState } from 'preact/hooks';
import { CATALOGUES, LOCALES, useT } from '../i18n';
import type { Key } from '../i18n';
import { READING_NAME } from '../lib/format';
import { parseReadingValue } from '../lib/numbers';
import { KNOWN_READINGS, readingNameOf } from '../lib/readings';
import type { IncidentData } from '../protocol';
import { ErrorAlert, FormActions } from './Form';
import { Modal } from './Modal';
import { readingLabel } from './MessageItem';

interface Row {
  name: string;
  value: string;
  unit: string;
}

interface Props {
  onClose: () => void;
  onSubmit: (data: IncidentData) => void;
  /** the sender's own last reading in this room: machine, line and the "repeat" shortcut */
  mine?: IncidentData | null;
  /** the room's last reading by anyone: machine and line when the sender has none */
  room?: IncidentData | null;
}

/** Each known reading's labels in every language, to read a typed label back as its name. */
const LABELS: Record<string, string[]> = Object.fromEntries(
  KNOWN_READINGS.map((n) => [n, LOCALES.map((l) => CATALOGUES[l][`reading.${n}` as Key])]),
);

const SUGGESTIONS_ID = 'reading-name-suggestions';

/** Builds an incident_data message: machine, line, named readings with units, a note. */
export function IncidentForm({ onClose, onSubmit, mine, room }: Props) {
  const t = useT();
  const from = mine ?? room ?? null;
  const [machine, setMachine] = useState(from?.machine_id ?? '');
  const [line, setLine] = useState(from?.line ?? '');
  const [note, setNote] = useState('');
  const [rows, setRows] = useState<Row[]>([{ name: readingLabel('temperature'), value: '', unit: '°C' }]);
  const [error, setError] = useState<string | null>(null);
  const form = useRef<HTMLFormElement>(null);

  const setRow = (i: number, change: Partial<Row>): void =>
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...change } : r)));

  /** The last reading's machine, line, names and units again, with the values left to type. */
  const repeat = (): void => {
    if (!mine) return;
    setMachine(mine.machine_id ?? '');
    setLine(mine.line ?? '');
    setRows(
      Object.keys(mine.readings).map((name) => ({ name: readingLabel(name), value: '', unit: mine.units?.[name] ?? '' })),
    );
    setError(null);
    requestAnimationFrame(() => form.current?.querySelector<HTMLInputElement>('input[inputmode="decimal"]')?.focus());
  };

  const submit = (ev: Event): void => {
    ev.preventDefault();
    const readings: Record<string, number> = {};
    const units: Record<string, string> = {};
    for (const r of rows) {
      const name = readingNameOf(r.name, LABELS);
      if (!name && !r.value.trim()) continue;
      if (!READING_NAME.test(name)) {
        setError(t('incident.badName', { name: r.name }));
        return;
      }
      const parsed = parseReadingValue(r.value);
      if (!parsed.ok) {
        // Named as the reader reads it (溫度, not temperature).
        const label = readingLabel(name);
        setError(
          parsed.reason === 'ambiguous'
            ? parsed.suggestion
              ? t('readingsForm.ambiguousComma', { name: label, value: r.value.trim(), suggestion: parsed.suggestion })
              : t('readingsForm.ambiguous', { name: label, value: r.value.trim() })
            : t('incident.badValue', { name: label }),
        );
        return;
      }
      readings[name] = parsed.value;
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
      <form ref={form} class="form incident-form" onSubmit={submit}>
        {mine && (
          <button type="button" class="link-button repeat-reading" onClick={repeat}>
            {t('readingsForm.repeat', {
              what: [mine.machine_id, Object.keys(mine.readings).map(readingLabel).join('、')].filter(Boolean).join(' · '),
            })}
          </button>
        )}
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
        <datalist id={SUGGESTIONS_ID}>
          {KNOWN_READINGS.map((n) => (
            <option key={n} value={readingLabel(n)} />
          ))}
        </datalist>
        <fieldset>
          <legend>{t('readings.title')}</legend>
          {rows.map((r, i) => (
            <div class="reading-row" key={i}>
              <label>
                {t('incident.name')}
                <input
                  value={r.name}
                  list={SUGGESTIONS_ID}
                  onInput={(e) => setRow(i, { name: e.currentTarget.value })}
                  placeholder={t('incident.namePlaceholder')}
                />
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
