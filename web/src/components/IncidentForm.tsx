import { useState } from 'preact/hooks';
import { READING_NAME } from '../lib/format';
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
        setError(`"${r.name}" is not a valid reading name: lower-case letters, digits and _, starting with a letter.`);
        return;
      }
      const value = Number(r.value);
      if (r.value.trim() === '' || !Number.isFinite(value)) {
        setError(`The value of ${name} must be a number.`);
        return;
      }
      readings[name] = value;
      if (r.unit.trim()) units[name] = r.unit.trim();
    }
    if (!Object.keys(readings).length) {
      setError('Add at least one reading.');
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
    <Modal title="Send incident readings" onClose={onClose}>
      <form class="form incident-form" onSubmit={submit}>
        <div class="form-row">
          <label>
            Machine
            <input value={machine} onInput={(e) => setMachine(e.currentTarget.value)} placeholder="CNC-07" maxLength={100} />
          </label>
          <label>
            Line
            <input value={line} onInput={(e) => setLine(e.currentTarget.value)} placeholder="L2" maxLength={100} />
          </label>
        </div>
        <fieldset>
          <legend>Readings</legend>
          {rows.map((r, i) => (
            <div class="reading-row" key={i}>
              <label>
                Name
                <input value={r.name} onInput={(e) => setRow(i, { name: e.currentTarget.value })} placeholder="pressure" />
              </label>
              <label>
                Value
                <input inputMode="decimal" value={r.value} onInput={(e) => setRow(i, { value: e.currentTarget.value })} placeholder="3.1" />
              </label>
              <label>
                Unit
                <input value={r.unit} onInput={(e) => setRow(i, { unit: e.currentTarget.value })} placeholder="bar" />
              </label>
              <button
                type="button"
                class="icon-button"
                aria-label={`Remove reading ${i + 1}`}
                disabled={rows.length === 1}
                onClick={() => setRows((rs) => rs.filter((_, j) => j !== i))}
              >
                −
              </button>
            </div>
          ))}
          <button type="button" class="link-button" onClick={() => setRows((rs) => [...rs, { name: '', value: '', unit: '' }])}>
            + Add reading
          </button>
        </fieldset>
        <label>
          Note
          <textarea value={note} rows={2} maxLength={2000} onInput={(e) => setNote(e.currentTarget.value)} />
        </label>
        <ErrorAlert error={error} />
        <FormActions onCancel={onClose}>
          <button type="submit" class="primary">
            Send readings
          </button>
        </FormActions>
      </form>
    </Modal>
  );
}
