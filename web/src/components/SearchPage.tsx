import { useEffect, useState } from 'preact/hooks';
import { TwinNote } from './RoomSidebar';
import { useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { splitHighlight } from '../lib/highlight';
import { formatFullTime, formatMessageTime } from '../lib/time';
import type { SearchHit } from '../protocol';
import { roomHref } from '../router';
import { useSession } from '../session';
import { ErrorAlert } from './Form';
import { Loading } from './Loading';

/** Results across my rooms; matched terms in <mark>, everything else as text. */
export function SearchPage({ q }: { q: string }) {
  const t = useT();
  const { api, rooms } = useSession();
  const [hits, setHits] = useState<SearchHit[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setHits(null);
    setError(null);
    if (!q.trim()) {
      setHits([]);
      return;
    }
    let live = true;
    api
      .search(q)
      .then((b) => live && setHits(b.results))
      .catch((err: unknown) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [q]);

  const twinRoom = (roomId: string) => {
    const r = rooms.find((x) => x.room_id === roomId);
    return r ? <TwinNote room={r} rooms={rooms} /> : null;
  };
  const titleOf = (roomId: string): string => rooms.find((r) => r.room_id === roomId)?.title ?? t('search.room');

  return (
    <section class="search-page" aria-labelledby="search-title">
      <h1 id="search-title">{t('search.results', { q })}</h1>
      <ErrorAlert error={error} />
      {hits === null && !error && (
        <Loading inline text={t('search.searching')} />
      )}
      {hits && hits.length === 0 && (
        <div class="empty-state">
          <p>{t('search.none')}</p>
        </div>
      )}
      {hits && hits.length > 0 && (
        <ol class="search-results">
          {hits.map((h) => (
            <li key={h.message.message_id}>
              <a href={roomHref(h.message.room_id, h.message.message_id)} class="search-hit">
                <span class="search-meta">
                  <strong>{titleOf(h.message.room_id)}</strong>
                  {twinRoom(h.message.room_id)} · {h.message.sender_display_name} ·{' '}
                  <time dateTime={h.message.created_at} title={formatFullTime(h.message.created_at)}>
                    {formatMessageTime(h.message.created_at)}
                  </time>
                </span>
                <span class="search-text">
                  {splitHighlight(h.highlight).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : p.text))}
                </span>
              </a>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
