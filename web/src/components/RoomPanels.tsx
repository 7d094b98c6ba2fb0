import { useEffect, useRef, useState } from 'preact/hooks';
import type { Member, Role, Room, RoomStatus, Severity, UserSummary } from '../protocol';
import { ROOM_STATUSES, SEVERITIES } from '../protocol';
import { useT } from '../i18n';
import { errorMessage, formatBytes } from '../lib/format';
import type { FileInfo } from '../protocol';
import { useSession } from '../session';
import { ErrorAlert, FormActions, SelectField, choiceOptions, useBusyAction } from './Form';
import { Icon } from './Icon';
import { Loading } from './Loading';
import { Modal } from './Modal';

const ROLES: Role[] = ['OWNER', 'EDITOR', 'VIEWER'];


export function MembersPanel({
  roomId,
  members,
  onlineIds,
  isOwner,
  commanderId,
  onHandOver,
  onChanged,
  onClose,
}: {
  roomId: string;
  members: Member[];
  onlineIds: ReadonlySet<string>;
  isOwner: boolean;
  /** the incident commander (issue 17), tagged in the list */
  commanderId?: string;
  /** hand command to a member (writers only; absent for viewers) */
  onHandOver?: (userId: string) => Promise<unknown>;
  onChanged: () => Promise<void>;
  onClose: () => void;
}) {
  const t = useT();
  const roleLabel = (r: Role): string => t(`role.${r}`);
  const { api, me } = useSession();
  const [query, setQuery] = useState('');
  const [found, setFound] = useState<UserSummary[]>([]);
  const [role, setRole] = useState<Role>('EDITOR');
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!isOwner || query.trim().length < 2) {
      setFound([]);
      return;
    }
    const t = setTimeout(() => {
      api
        .users(query.trim())
        .then((b) => setFound(b.users.filter((u) => !members.some((m) => m.user_id === u.user_id))))
        .catch(() => setFound([]));
    }, 250);
    return () => clearTimeout(t);
  }, [query, isOwner, members]);

  const [said, setSaid] = useState('');
  const searchBox = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  const run = async (action: () => Promise<unknown>, done?: string): Promise<void> => {
    setError(null);
    try {
      await action();
      await onChanged();
      if (done) setSaid(done);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const sorted = [...members].sort(
    (a, b) => Number(onlineIds.has(b.user_id)) - Number(onlineIds.has(a.user_id)) || a.display_name.localeCompare(b.display_name),
  );

  return (
    <Modal title={t('members.title', { count: members.length })} onClose={onClose}>
      <p class="visually-hidden" role="status">
        {said}
      </p>
      <ul class="member-list" ref={list}>
        {sorted.map((m) => (
          <li key={m.user_id}>
            <span class={`presence-dot${onlineIds.has(m.user_id) ? ' online' : ''}`} aria-hidden="true" />
            <span class="member-name">
              {m.display_name}
              {m.user_id === me.user_id && ` ${t('members.you')}`}
              <small>{m.user_id}</small>
              {m.user_id === commanderId && <span class="badge commander-badge">{t('record.commanderTag')}</span>}
            </span>
            <span class="visually-hidden">{onlineIds.has(m.user_id) ? t('members.online') : t('members.offline')}</span>
            {isOwner && m.user_id !== me.user_id ? (
              <span class="member-controls">
                <select
                  aria-label={t('members.roleOf', { name: m.display_name })}
                  value={m.role}
                  onChange={(e) => void run(() => api.setMemberRole(roomId, m.user_id, e.currentTarget.value as Role))}
                >
                  {choiceOptions(ROLES, roleLabel)}
                </select>
                <button
                  type="button"
                  class="link-button danger"
                  aria-label={t('members.remove', { name: m.display_name })}
                  onClick={(ev) => {
                    // The row goes away: keep focus in the dialog, on the list.
                    const row = (ev.currentTarget as HTMLElement).closest('li');
                    const next = (row?.nextElementSibling ?? row?.previousElementSibling) as HTMLElement | null;
                    void run(() => api.removeMember(roomId, m.user_id), t('members.removed', { name: m.display_name })).then(() => {
                      const target = next?.querySelector<HTMLElement>('button, select') ?? list.current?.closest<HTMLElement>('[role=dialog]');
                      target?.focus();
                    });
                  }}
                >
                  {t('members.removeShort')}
                </button>
              </span>
            ) : (
              <span class="chip">{roleLabel(m.role)}</span>
            )}
            {onHandOver && commanderId && m.user_id !== commanderId && m.role !== 'VIEWER' && (
              <button
                type="button"
                class="link-button hand-over"
                aria-label={t('record.handOverTo', { name: m.display_name })}
                onClick={() => void run(() => onHandOver(m.user_id), t('record.handedOver', { name: m.display_name }))}
              >
                {t('record.makeCommander')}
              </button>
            )}
          </li>
        ))}
      </ul>
      {isOwner && (
        <form class="form add-member" onSubmit={(e) => e.preventDefault()}>
          <h3>{t('members.add')}</h3>
          <label>
            {t('members.find')}
            <input
              ref={searchBox}
              type="search"
              value={query}
              onInput={(e) => setQuery(e.currentTarget.value)}
              placeholder={t('members.findPlaceholder')}
            />
          </label>
          <SelectField label={t('members.role')} value={role} choices={ROLES} onChange={setRole} format={roleLabel} />
          {found.length > 0 && (
            <ul class="found-users">
              {found.map((u) => (
                <li key={u.user_id}>
                  <span>
                    {u.display_name} <small>{u.user_id}</small>
                  </span>
                  <button
                    type="button"
                    onClick={() =>
                      void run(async () => {
                        await api.addMember(roomId, u.user_id, role);
                        setQuery('');
                      }, t('members.added', { name: u.display_name })).then(() => searchBox.current?.focus())
                    }
                  >
                    {t('members.addShort')}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </form>
      )}
      <ErrorAlert error={error} />
    </Modal>
  );
}

export function FilesPanel({ roomId, onClose }: { roomId: string; onClose: () => void }) {
  const t = useT();
  const { api } = useSession();
  const [files, setFiles] = useState<FileInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api
      .files(roomId)
      .then((b) => setFiles(b.files))
      .catch((err: unknown) => setError(errorMessage(err)));
  }, [roomId]);

  const open = async (f: FileInfo): Promise<void> => {
    try {
      const link = await api.fileLinkById(roomId, f.file_id);
      const a = document.createElement('a');
      a.href = link.url;
      a.download = f.filename;
      a.target = '_blank';
      a.rel = 'noopener';
      document.body.append(a);
      a.click();
      a.remove();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Modal title={t('files.title')} onClose={onClose}>
      <ErrorAlert error={error} />
      {files === null && !error && (
        <Loading inline text={t('files.loading')} />
      )}
      {files && files.length === 0 && (
        <div class="empty-state">
          <p>{t('files.none')}</p>
        </div>
      )}
      {files && files.length > 0 && (
        <ul class="file-list">
          {files.map((f) => (
            <li key={f.file_id}>
              <button type="button" class="link-button" onClick={() => void open(f)} aria-label={t('msg.download', { name: f.filename })}>
                <Icon name="attach" size={16} /> {f.filename}
              </button>
              <small>
                {f.content_type} · {formatBytes(f.size_bytes)}
              </small>
            </li>
          ))}
        </ul>
      )}
    </Modal>
  );
}

export function StatusPanel({
  room,
  isOwner,
  onSaved,
  onClose,
}: {
  room: Room;
  isOwner: boolean;
  onSaved: () => Promise<void>;
  onClose: () => void;
}) {
  const t = useT();
  const { api } = useSession();
  const [status, setStatus] = useState<RoomStatus>(room.status);
  const [severity, setSeverity] = useState<Severity>(room.severity);
  const { busy, error, run } = useBusyAction();

  const save = (ev: Event): Promise<void> => {
    ev.preventDefault();
    return run(async () => {
      await api.updateRoom(room.room_id, { status, severity });
      await onSaved();
      onClose();
    });
  };

  return (
    <Modal title={t('status.title')} onClose={onClose}>
      <form class="form" onSubmit={(e) => void save(e)}>
        <dl class="room-facts">
          <dt>{t('create.location')}</dt>
          <dd>{room.location || '—'}</dd>
          <dt>{t('status.lots')}</dt>
          <dd>{room.lots.length ? room.lots.join(', ') : '—'}</dd>
        </dl>
        <SelectField
          label={t('rooms.status')}
          disabled={!isOwner}
          value={status}
          choices={ROOM_STATUSES}
          onChange={setStatus}
          format={(s) => t(`status.${s}`)}
        />
        <SelectField
          label={t('create.severity')}
          disabled={!isOwner}
          value={severity}
          choices={SEVERITIES}
          onChange={setSeverity}
          format={(s) => t(`severity.${s}`)}
        />
        {!isOwner && <p class="muted">{t('status.ownersOnly')}</p>}
        <ErrorAlert error={error} />
        <FormActions onCancel={onClose} cancelLabel={isOwner ? t('common.cancel') : t('common.close')}>
          {isOwner && (
            <button type="submit" class="primary" disabled={busy}>
              {t('common.save')}
            </button>
          )}
        </FormActions>
      </form>
    </Modal>
  );
}

export function ConfirmDelete({ onConfirm, onClose }: { onConfirm: () => void; onClose: () => void }) {
  const t = useT();
  return (
    <Modal title={t('delete.title')} onClose={onClose}>
      <p>{t('delete.text')}</p>
      <FormActions onCancel={onClose}>
        <button type="button" class="danger primary" data-autofocus onClick={onConfirm}>
          {t('delete.confirm')}
        </button>
      </FormActions>
    </Modal>
  );
}
