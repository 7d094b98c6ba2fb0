import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage } from '../lib/format';
import { renderMarkdown } from '../lib/markdown';
import { useSession } from '../session';
import { Modal } from './Modal';

/** The room's Markdown report: rendered (sanitized), copied, or downloaded as .md. */
export function ReportPreview({ roomId, title, onClose }: { roomId: string; title: string; onClose: () => void }) {
  const { api } = useSession();
  const [markdown, setMarkdown] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState('');

  useEffect(() => {
    api
      .report(roomId)
      .then(setMarkdown)
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [roomId]);

  // DOMPurify is the only way any HTML reaches the page.
  const html = useMemo(() => (markdown === null ? '' : renderMarkdown(markdown)), [markdown]);

  const copy = async (): Promise<void> => {
    if (markdown === null) return;
    try {
      await navigator.clipboard.writeText(markdown);
      setStatus('Markdown copied to the clipboard.');
    } catch {
      setStatus('Copy failed: the browser did not allow clipboard access.');
    }
  };

  const download = (): void => {
    if (markdown === null) return;
    const blob = new Blob([markdown], { type: 'text/markdown;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = `${slug(title) || 'war-room'}-report.md`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    setStatus('Report downloaded.');
  };

  return (
    <Modal title="Incident report" onClose={onClose} wide>
      <div class="report-actions">
        <button type="button" onClick={() => void copy()} disabled={markdown === null}>
          Copy Markdown
        </button>
        <button type="button" onClick={download} disabled={markdown === null}>
          Download .md
        </button>
        <span class="muted" role="status" aria-live="polite">
          {status}
        </span>
      </div>
      {error && (
        <p class="error" role="alert">
          Could not load the report: {error}
        </p>
      )}
      {markdown === null && !error && <p role="status">Loading report…</p>}
      {markdown !== null && (
        <article class="report markdown" aria-label="Report preview" dangerouslySetInnerHTML={{ __html: html }} />
      )}
    </Modal>
  );
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}
