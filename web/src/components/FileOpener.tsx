import { useEffect, useState } from 'preact/hooks';
import { useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { roomHref } from '../router';
import { useSession } from '../session';
import { Loading } from './Loading';

/** A room file from a link in a saved report: a fresh short-lived link, opened in place. */
export function FileOpener({ roomId, fileId }: { roomId: string; fileId: string }) {
  const t = useT();
  const { api } = useSession();
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .fileLinkById(roomId, fileId)
      .then((link) => location.replace(link.url))
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [roomId, fileId]);
  return error ? (
    <div class="empty-state" role="alert">
      <p>{t('reportFile.failed', { reason: error })}</p>
      <a href={roomHref(roomId)}>{t('reportFile.openRoom')}</a>
    </div>
  ) : (
    <Loading text={t('reportFile.opening')} />
  );
}
