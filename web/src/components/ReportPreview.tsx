import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import { currentLocale, useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { ownFilePath, portableReport, renderReport } from '../lib/markdown';
import type { Message, Room } from '../protocol';
import { Loading } from './Loading';
import { readingLabel } from './MessageItem';
import { Modal } from './Modal';
import { chartImage, useAllReadings } from './ReadingsPanel';

/**
 * A file name from a room title that keeps its words in any script (烤箱停機 →
 * 烤箱停機-report.md); only characters file systems refuse are dropped.
 */
export function reportFileName(title: string): string {
  const base = title
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, ' ')
    .trim()
    .replace(/\s+/g, '-')
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 80);
  return `${base || 'war-room'}-report.md`;
}

/** The room's Markdown report: rendered (sanitized, nothing outside loads), copied, or downloaded as .md. */
export function ReportPreview({ room, messages, api, onClose }: { room: Room; messages: Message[]; api: Api; onClose: () => void }) {
  const t = useT();
  const [markdown, setMarkdown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');
  const [charts, setCharts] = useState<Array<{ name: string; url: string; points: number }>>([]);
  const article = useRef<HTMLElement>(null);

  useEffect(() => {
    api
      .report(room.room_id, currentLocale())
      .then(setMarkdown)
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [room.room_id]);

  // The readings as chart images (the Markdown keeps them as tables).
  const series = useAllReadings(api, room.room_id, messages);
  useEffect(() => {
    let live = true;
    void Promise.all(series.map(async (s, i) => ({ name: s.name, url: await chartImage(s, i), points: s.points.length })))
      .then((list) => live && setCharts(list))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [series]);

  // DOMPurify is the only way any HTML reaches the page; links become text,
  // and only this system's own attachments may load as images.
  const html = useMemo(
    () => (markdown === null ? '' : renderReport(markdown, (src) => ownFilePath(src, api.base, location.origin))),
    [markdown],
  );
  useEffect(() => {
    for (const img of Array.from(article.current?.querySelectorAll<HTMLImageElement>('img[data-file]') ?? [])) {
      const path = img.dataset.file!;
      api
        .fileLink(path)
        .then((link) => {
          img.src = link.url;
        })
        .catch(() => img.replaceWith(document.createTextNode(`[${img.alt || path}]`)));
    }
  }, [html]);

  // What leaves the app: room files as links that open them for a signed-in member.
  const saved = (): string => portableReport(markdown ?? '', location.origin + location.pathname);

  const copy = async (): Promise<void> => {
    if (markdown === null) return;
    try {
      await navigator.clipboard.writeText(saved());
      setStatus(t('report.copied'));
    } catch {
      setStatus(t('report.copyFailed'));
    }
  };

  const download = (): void => {
    if (markdown === null) return;
    const blob = new Blob([saved()], { type: 'text/markdown;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = reportFileName(room.title);
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus(t('report.downloaded'));
  };

  return (
    <Modal title={t('report.title')} onClose={onClose} wide>
      <div class="report-actions">
        <button type="button" onClick={() => void copy()} disabled={markdown === null}>
          {t('report.copy')}
        </button>
        <button type="button" onClick={download} disabled={markdown === null}>
          {t('report.download')}
        </button>
        <span class="muted" role="status" aria-live="polite">
          {status}
        </span>
      </div>
      {error && (
        <p class="error" role="alert">
          {t('report.failed', { reason: error })}
        </p>
      )}
      {markdown === null && !error && (
        <Loading inline text={t('report.loading')} />
      )}
      {markdown !== null && (
        <article
          ref={article}
          class="report markdown"
          aria-label={t('report.preview')}
          dangerouslySetInnerHTML={{ __html: html }}
        />
      )}
      {markdown !== null && charts.length > 0 && (
        <section class="report-charts" aria-label={t('report.charts')}>
          <h2>{t('report.charts')}</h2>
          {charts.map((c) => (
            <figure key={c.name}>
              <img src={c.url} alt={t('readings.chartLabel', { name: readingLabel(c.name), count: c.points })} data-points={c.points} />
              <figcaption>{readingLabel(c.name)}</figcaption>
            </figure>
          ))}
        </section>
      )}
    </Modal>
  );
}
