import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Api } from '../api';
import { currentLocale, useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { ownFilePath, renderReport } from '../lib/markdown';
import type { ReportLang } from '../lib/record';
import type { Room } from '../protocol';
import { ErrorAlert } from './Form';
import { Modal } from './Modal';

/** The 8D report, previewed in either language (sanitized Markdown) and downloaded as a PDF. */
export function EightDPreview({ room, api, onClose }: { room: Room; api: Api; onClose: () => void }) {
  const t = useT();
  const [lang, setLang] = useState<ReportLang>(currentLocale() === 'zh-TW' ? 'zh-TW' : 'en');
  const [markdown, setMarkdown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setMarkdown(null);
    api
      .report8d(room.room_id, lang)
      .then(setMarkdown)
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [room.room_id, lang]);
  const html = useMemo(
    () => (markdown === null ? '' : renderReport(markdown, (src) => ownFilePath(src, api.base, location.origin))),
    [markdown],
  );
  const download = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      const blob = await api.report8dPdf(room.room_id, lang);
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = `8d-${room.room_id}-${lang}.pdf`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={t('record.eightD.title')} onClose={onClose} wide>
      <div class="eightd-controls">
        <label>
          {t('record.eightD.lang')}
          <select value={lang} onChange={(e) => setLang(e.currentTarget.value as ReportLang)}>
            <option value="zh-TW">{t('lang.zhTW')}</option>
            <option value="en">{t('lang.en')}</option>
          </select>
        </label>
        <button type="button" disabled={busy} onClick={() => void download()}>
          {t('record.eightD.downloadPdf')}
        </button>
      </div>
      <ErrorAlert error={error} />
      {markdown === null ? (
        <p class="muted">{t('app.loading')}</p>
      ) : (
        <article class="report-preview" aria-label={t('record.eightD.preview')} dangerouslySetInnerHTML={{ __html: html }} />
      )}
    </Modal>
  );
}
