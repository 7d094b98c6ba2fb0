import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { useT } from '../i18n';
import type { Key } from '../i18n';
import { errorMessage } from '../lib/format';
import { FOLLOW_UP_STATUSES } from '../lib/record';
import type { FollowUp, FollowUpStatus } from '../lib/record';
import type { Member } from '../protocol';
import { ErrorAlert } from './Form';
import { Modal } from './Modal';

const STATUS_LABEL: Record<FollowUpStatus, Key> = {
  open: 'record.followUps.open',
  done: 'record.followUps.done',
  cancelled: 'record.followUps.cancelled',
};

/** The incident's follow-up actions (the 8D's corrective actions): overdue ones flagged. */
export function FollowUpsPanel({
  roomId,
  api,
  members,
  canWrite,
  version,
  onClose,
}: {
  roomId: string;
  api: Api;
  members: Member[];
  canWrite: boolean;
  version: number;
  onClose: () => void;
}) {
  const t = useT();
  const [items, setItems] = useState<FollowUp[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [title, setTitle] = useState('');
  const [owner, setOwner] = useState(members[0]?.user_id ?? '');
  const [due, setDue] = useState('');
  const load = (): void => {
    api
      .followUps(roomId)
      .then((b) => setItems(b.follow_ups))
      .catch((err: unknown) => setError(errorMessage(err)));
  };
  useEffect(load, [roomId, version]);
  const act = async (action: () => Promise<unknown>): Promise<boolean> => {
    setError(null);
    try {
      await action();
      load();
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    }
  };
  return (
    <Modal title={t('record.followUps.title')} onClose={onClose} wide>
      <ErrorAlert error={error} />
      {items === null ? (
        <p class="muted">{t('app.loading')}</p>
      ) : items.length === 0 ? (
        <p class="muted">{t('record.followUps.none')}</p>
      ) : (
        <ul class="follow-up-list" aria-label={t('record.followUps.title')}>
          {items.map((f) => (
            <li key={f.follow_up_id} class={`follow-up${f.overdue ? ' overdue' : ''}`} data-status={f.status}>
              <span class="follow-up-title">{f.title}</span>
              <span class="follow-up-meta">
                {t('record.followUps.ownerDue', { name: f.owner_display_name, due: f.due })}
              </span>
              {f.overdue && <span class="badge overdue-badge">{t('record.followUps.overdue')}</span>}
              {canWrite && (
                <label class="follow-up-owner">
                  <span class="visually-hidden">{t('record.followUps.ownerOf', { title: f.title })}</span>
                  <select
                    value={f.owner_id}
                    onChange={(e) => void act(() => api.changeFollowUp(roomId, f.follow_up_id, { owner_id: e.currentTarget.value }))}
                  >
                    {members.map((m) => (
                      <option key={m.user_id} value={m.user_id}>
                        {m.display_name}
                      </option>
                    ))}
                  </select>
                </label>
              )}
              {canWrite && (
                <label class="follow-up-due">
                  <span class="visually-hidden">{t('record.followUps.dueOf', { title: f.title })}</span>
                  <input
                    type="date"
                    required
                    value={f.due}
                    onChange={(e) => void act(() => api.changeFollowUp(roomId, f.follow_up_id, { due: e.currentTarget.value }))}
                  />
                </label>
              )}
              {canWrite ? (
                <label class="follow-up-status">
                  <span class="visually-hidden">{t('record.followUps.statusOf', { title: f.title })}</span>
                  <select
                    value={f.status}
                    onChange={(e) =>
                      void act(() => api.changeFollowUp(roomId, f.follow_up_id, { status: e.currentTarget.value as FollowUpStatus }))
                    }
                  >
                    {FOLLOW_UP_STATUSES.map((s) => (
                      <option key={s} value={s}>
                        {t(STATUS_LABEL[s])}
                      </option>
                    ))}
                  </select>
                </label>
              ) : (
                <span class="follow-up-status">{t(STATUS_LABEL[f.status])}</span>
              )}
            </li>
          ))}
        </ul>
      )}
      {canWrite && (
        <form
          class="follow-up-form"
          onSubmit={(ev) => {
            ev.preventDefault();
            void act(() => api.addFollowUp(roomId, { title: title.trim(), owner_id: owner, due })).then((ok) => {
              if (ok) setTitle('');
            });
          }}
        >
          <h3>{t('record.followUps.add')}</h3>
          <label>
            {t('record.followUps.what')}
            <input required maxLength={200} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
          </label>
          <label>
            {t('record.followUps.owner')}
            <select required value={owner} onChange={(e) => setOwner(e.currentTarget.value)}>
              {members.map((m) => (
                <option key={m.user_id} value={m.user_id}>
                  {m.display_name}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('record.followUps.due')}
            <input type="date" required value={due} onInput={(e) => setDue(e.currentTarget.value)} />
          </label>
          <button type="submit">{t('record.followUps.add')}</button>
        </form>
      )}
    </Modal>
  );
}
