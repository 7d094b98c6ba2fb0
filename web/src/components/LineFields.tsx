import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { currentLocale, useT } from '../i18n';
import type { Line } from '../lib/record';

export interface LineChoice {
  line_id: string;
  machine: string;
  stop_reason: string;
}

/**
 * Production impact when an incident is declared (issue 17): the line (from
 * GET /api/lines), the machine, and a stop reason from that line's own list,
 * labelled in the reader's language. Shown only when the plant has lines.
 */
export function LineFields({ api, value, onChange }: { api: Api; value: LineChoice; onChange: (v: LineChoice) => void }) {
  const t = useT();
  const [lines, setLines] = useState<Line[]>([]);
  useEffect(() => {
    api
      .lines()
      .then((b) => setLines(b.lines))
      .catch(() => setLines([]));
  }, []);
  if (lines.length === 0) return null;
  const line = lines.find((l) => l.line_id === value.line_id);
  const lang = currentLocale() === 'zh-TW' ? 'zh-TW' : 'en';
  return (
    <>
      <label>
        {t('record.line')}
        <select value={value.line_id} onChange={(e) => onChange({ ...value, line_id: e.currentTarget.value, stop_reason: '' })}>
          <option value="">{t('record.noLine')}</option>
          {lines.map((l) => (
            <option key={l.line_id} value={l.line_id}>
              {(lang === 'zh-TW' ? l.label_zh : l.label_en) || l.name}
            </option>
          ))}
        </select>
      </label>
      {line && (
        <>
          <label>
            {t('record.machine')}
            <input maxLength={100} value={value.machine} onInput={(e) => onChange({ ...value, machine: e.currentTarget.value })} />
          </label>
          <label>
            {t('record.stopReason')}
            <select value={value.stop_reason} onChange={(e) => onChange({ ...value, stop_reason: e.currentTarget.value })}>
              <option value="">{t('record.noStopReason')}</option>
              {line.stop_reasons.map((r) => (
                <option key={r.code} value={r.code}>
                  {r[lang]}
                </option>
              ))}
            </select>
          </label>
        </>
      )}
    </>
  );
}
