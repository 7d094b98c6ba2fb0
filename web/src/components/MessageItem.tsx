import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import { formatNumber, t, useT } from '../i18n';
import type { Key } from '../i18n';
import { segmentMentions } from '../lib/mentions';
import { formatBytes } from '../lib/format';
import { formatFullTime, formatMessageTime } from '../lib/time';
import { EDIT_WINDOW_MS, MAX_CLIENT_FRAME_BYTES, frameBytes, incidentData, isSystemContent } from '../protocol';
import type { FileInfo, IncidentData, Message, Role, RoomStatus } from '../protocol';
import { canPin } from '../lib/record';
import { Icon } from './Icon';
import { initials } from './Login';
import { Modal } from './Modal';

export const REACTION_EMOJI = ['👍', '✅', '👀', '🔥', '❗', '🙏'] as const;

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | null;

export interface MessageActions {
  /** resolves whether the text reached the clipboard */
  copy: (m: Message) => Promise<boolean>;
  edit: (m: Message, content: string) => void;
  remove: (m: Message) => void;
  react: (m: Message, emoji: string) => void;
  retry: (clientMsgId: string) => void;
  discard: (clientMsgId: string) => void;
  /** pin to the incident's timeline (writers only; absent where pinning is not offered) */
  pin?: (m: Message) => void;
}

interface Props {
  message: Message;
  showHeader: boolean;
  myId: string;
  isOwner: boolean;
  canReact: boolean;
  names: ReadonlyMap<string, string>;
  status: DeliveryStatus;
  error?: string;
  highlighted: boolean;
  api: Api;
  actions: MessageActions;
  online: boolean;
  /** the list's one Tab stop (roving tabindex) */
  active?: boolean;
  /** open the editor now (Up-arrow in an empty composer) */
  editNow?: boolean;
  onEditStarted?: () => void;
}

function MessageItemImpl(props: Props) {
  return props.message.message_type === 'system' ? (
    <SystemLine message={props.message} names={props.names} />
  ) : (
    <UserMessage {...props} />
  );
}

/** Whether my message can still be edited, and for how many more ms. */
export function editTimeLeft(createdAt: string, now: number = Date.now()): number {
  return Math.max(0, Date.parse(createdAt) + EDIT_WINDOW_MS - now);
}

function UserMessage(props: Props) {
  useT();
  const { message: m, showHeader, myId, isOwner, status, actions, highlighted, active } = props;
  const [selected, setSelected] = useState(false);
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const [copied, setCopied] = useState<'ok' | 'failed' | null>(null);
  const [, expire] = useState(0);
  const pressTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const rootRef = useRef<HTMLElement>(null);

  const mine = m.sender_id === myId;
  const deleted = Boolean(m.deleted_at);
  const confirmed = status !== 'pending' && status !== 'failed';
  const left = editTimeLeft(m.created_at);
  const withinWindow = left > 0;
  // The Edit button goes when the 15 minutes are up, not at the next re-render.
  useEffect(() => {
    if (!mine || !withinWindow) return;
    const timer = setTimeout(() => expire((n) => n + 1), left + 50);
    return () => clearTimeout(timer);
  }, [mine, withinWindow, m.created_at]);
  const canEdit = mine && confirmed && !deleted && withinWindow && m.message_type === 'text' && props.online;
  const canDelete = confirmed && !deleted && (mine || isOwner) && props.online;
  const canReact = confirmed && !deleted && props.canReact && props.online;
  const text = typeof m.content === 'string' ? m.content : '';
  const tab = active ? 0 : -1;

  useEffect(() => {
    if (!props.editNow) return;
    props.onEditStarted?.();
    if (canEdit) setEditing(true);
  }, [props.editNow]);

  // After an edit (saved or not) focus goes back to the message, not to the page.
  const refocus = (): void => {
    requestAnimationFrame(() => rootRef.current?.focus({ preventScroll: true }));
  };

  const copy = (): void => {
    void actions.copy(m).then((ok) => {
      setCopied(ok ? 'ok' : 'failed');
      setTimeout(() => setCopied(null), 2000);
    });
  };

  // Shortcuts on the focused message (see the ? help).
  const onKeyDown = (ev: KeyboardEvent): void => {
    if (ev.target !== rootRef.current || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const key = ev.key.toLowerCase();
    if (key === 'e' && canEdit) setEditing(true);
    else if (key === 'r' && canReact) setPicking((p) => !p);
    else if (key === 'c' && text) copy();
    else if ((ev.key === 'Delete' || ev.key === 'Backspace') && canDelete) actions.remove(m);
    else return;
    ev.preventDefault();
  };

  // Touch: a long press (or a tap) reveals the actions that hover shows on desktop.
  const onTouchStart = (): void => {
    pressTimer.current = setTimeout(() => setSelected(true), 450);
  };
  const onTouchEnd = (): void => {
    if (pressTimer.current) clearTimeout(pressTimer.current);
  };

  useEffect(() => {
    if (!selected) return;
    const away = (ev: Event): void => {
      if (rootRef.current && !rootRef.current.contains(ev.target as Node)) {
        setSelected(false);
        setPicking(false);
      }
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [selected]);

  // The ✓ follows a text's last line; beside a photo, a file or a deletion it would sit
  // alone on a line of its own, so there it goes beside the time.
  const sentMark =
    mine && status === 'sent' && !deleted ? (
      <span class="msg-status msg-status-sent" aria-label={t('msg.sent')} title={t('msg.sent')}>
        ✓
      </span>
    ) : null;
  const markByTime = m.message_type !== 'text' ? sentMark : null;

  return (
    <article
      ref={rootRef}
      class={[
        'msg',
        showHeader ? 'msg-first' : 'msg-cont',
        mine ? 'msg-mine' : '',
        selected ? 'msg-selected' : '',
        highlighted ? 'msg-highlight' : '',
        m.mentions.includes(myId) ? 'msg-mentions-me' : '',
      ].join(' ')}
      data-message-id={m.message_id}
      data-seq={m.sequence_number}
      data-status={status ?? undefined}
      aria-label={`${m.sender_display_name}, ${formatMessageTime(m.created_at)}`}
      // One Tab stop for the whole list: only the active message takes focus
      // by Tab; arrows move between them, Tab then reaches its actions.
      tabIndex={tab}
      onKeyDown={onKeyDown}
      onClick={(ev) => {
        // A tap on the body (not a control) toggles the actions on touch screens.
        if ((ev.target as HTMLElement).closest('button, a, input, textarea')) return;
        if (matchMedia('(hover: none)').matches) setSelected((s) => !s);
      }}
      onTouchStart={onTouchStart}
      onTouchEnd={onTouchEnd}
      onTouchMove={onTouchEnd}
    >
      {showHeader && (
        <header class="msg-head">
          <span class="avatar" aria-hidden="true">
            {initials(m.sender_display_name)}
          </span>
          <span class="msg-sender">{m.sender_display_name}</span>
          <time class="msg-time" dateTime={m.created_at} title={formatFullTime(m.created_at)}>
            {formatMessageTime(m.created_at)}
          </time>
          {markByTime}
        </header>
      )}
      <div class="msg-body">
        {!showHeader && (
          <time class="msg-time msg-time-inline" dateTime={m.created_at} title={formatFullTime(m.created_at)}>
            {formatMessageTime(m.created_at)}
          </time>
        )}
        {!showHeader && markByTime}
        {deleted ? (
          <p class="msg-deleted">
            <em>{t('msg.deleted')}</em>
          </p>
        ) : editing ? (
          <EditBox
            initial={text}
            onCancel={() => {
              setEditing(false);
              refocus();
            }}
            onSave={(value) => {
              // Past the 15 minutes the server would refuse it: say so and keep
              // the words on screen (they can still be copied), do not drop them.
              if (editTimeLeft(m.created_at) <= 0) return false;
              setEditing(false);
              if (value.trim() && value !== text) actions.edit(m, value);
              refocus();
              return true;
            }}
          />
        ) : (
          <MessageContent {...props} />
        )}
        {m.edited_at && !deleted && <span class="msg-edited">{t('msg.edited')}</span>}
        {mine && status && status !== 'sent' && (
          <span class={`msg-status msg-status-${status}`} role={status === 'failed' ? 'alert' : undefined}>
            {status === 'pending'
              ? t('msg.sending')
              : props.error
                ? t('msg.notSentBecause', { reason: props.error })
                : t('msg.notSent')}
          </span>
        )}
        {sentMark && m.message_type === 'text' && sentMark}
        {status === 'failed' && m.client_msg_id && (
          <span class="msg-retry">
            <button type="button" class="link-button" onClick={() => actions.retry(m.client_msg_id!)}>
              {t('msg.retry')}
            </button>
            <button type="button" class="link-button" onClick={() => actions.discard(m.client_msg_id!)}>
              {t('msg.discard')}
            </button>
          </span>
        )}
        {copied && (
          <span class="msg-copied" role="status">
            {copied === 'ok' ? t('msg.copied') : t('msg.copyFailed')}
          </span>
        )}
        {!deleted && m.reactions.length > 0 && (
          <div class="reactions" role="group" aria-label={t('msg.reactions')}>
            {m.reactions.map((r) => {
              const minePressed = r.user_ids.includes(myId);
              return (
                <button
                  key={r.emoji}
                  type="button"
                  class={`reaction${minePressed ? ' reaction-mine' : ''}`}
                  aria-pressed={minePressed}
                  aria-label={minePressed ? t('msg.reactionMine', { emoji: r.emoji, count: r.count }) : t('msg.reaction', { emoji: r.emoji, count: r.count })}
                  tabIndex={tab}
                  disabled={!canReact}
                  onClick={() => actions.react(m, r.emoji)}
                >
                  <span aria-hidden="true">{r.emoji}</span> <span class="reaction-count">{r.count}</span>
                </button>
              );
            })}
          </div>
        )}
      </div>
      {!deleted && !editing && confirmed && (
        <div class="msg-actions" role="toolbar" aria-label={t('msg.actions')}>
          {text && (
            <button type="button" tabIndex={tab} onClick={copy} aria-label={t('msg.copy')} title={t('msg.copy')}>
              <Icon name="copy" size={16} />
            </button>
          )}
          {canReact && (
            <button
              type="button"
              tabIndex={tab}
              aria-label={t('msg.addReaction')}
              title={t('msg.addReaction')}
              aria-expanded={picking}
              onClick={() => setPicking((p) => !p)}
            >
              <Icon name="smile" size={16} />
            </button>
          )}
          {canEdit && (
            <button type="button" tabIndex={tab} onClick={() => setEditing(true)} aria-label={t('msg.edit')} title={t('msg.edit')}>
              <Icon name="edit" size={16} />
            </button>
          )}
          {props.canReact && actions.pin && canPin(m) && (
            <button type="button" tabIndex={tab} onClick={() => actions.pin!(m)} aria-label={t('msg.pin')} title={t('msg.pin')}>
              <Icon name="pin" size={16} />
            </button>
          )}
          {canDelete && (
            <button type="button" tabIndex={tab} onClick={() => actions.remove(m)} aria-label={t('msg.delete')} title={t('msg.delete')}>
              <Icon name="trash" size={16} />
            </button>
          )}
          {picking && (
            <div class="emoji-picker" role="group" aria-label={t('msg.chooseReaction')}>
              {REACTION_EMOJI.map((e) => (
                <button
                  key={e}
                  type="button"
                  aria-label={t('msg.react', { emoji: e })}
                  onClick={() => {
                    setPicking(false);
                    actions.react(m, e);
                  }}
                >
                  {e}
                </button>
              ))}
            </div>
          )}
        </div>
      )}
    </article>
  );
}

export const MessageItem = memo(MessageItemImpl);

function MessageContent({ message: m, names, myId, api, active }: Props) {
  // Controls inside a message are in the list's one Tab stop (roving), never stops of their own.
  const tab = active ? 0 : -1;
  switch (m.message_type) {
    case 'incident_data': {
      const data = incidentData(m.content);
      return data ? <ReadingsTable data={data} /> : <p class="msg-text">{t('msg.invalidReadings')}</p>;
    }
    case 'image_ref':
      return (
        <>
          <ImageAttachment message={m} api={api} tab={tab} />
          {typeof m.content === 'string' && m.content && <MentionText text={m.content} message={m} names={names} myId={myId} />}
        </>
      );
    case 'file_ref':
      return (
        <>
          <FileAttachment message={m} api={api} tab={tab} />
          {typeof m.content === 'string' && m.content && <MentionText text={m.content} message={m} names={names} myId={myId} />}
        </>
      );
    default:
      return typeof m.content === 'string' ? (
        <MentionText text={m.content} message={m} names={names} myId={myId} />
      ) : null;
  }
}

/** The text of a message as text nodes, with mentions wrapped in spans — never HTML. */
function MentionText({ text, message, names, myId }: { text: string; message: Message; names: ReadonlyMap<string, string>; myId: string }) {
  const segments = segmentMentions(text, message.mentions, names, myId);
  // A plain message is one text child; with mentions every piece is its own
  // element, so the list never mixes bare text nodes with keyed elements.
  if (segments.length === 1 && segments[0]!.kind === 'text') return <p class="msg-text">{text}</p>;
  return (
    <p class="msg-text">
      {segments.map((s, i) =>
        s.kind === 'text' ? (
          <span key={i}>{s.text}</span>
        ) : (
          <span key={i} class={s.isMe ? 'mention mention-me' : 'mention'} title={s.user_id}>
            {s.text}
          </span>
        ),
      )}
    </p>
  );
}

function ReadingsTable({ data }: { data: IncidentData }) {
  const units = data.units ?? {};
  const caption = [data.machine_id, data.line].filter(Boolean).join(' · ') || t('readings.title');
  return (
    <div class="readings">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{t('readings.reading')}</th>
            <th scope="col">{t('readings.value')}</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(data.readings).map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{readingLabel(k)}</th>
              <td>
                {formatNumber(v)}
                {units[k] ? ` ${units[k]}` : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data.note && <p class="readings-note">{data.note}</p>}
    </div>
  );
}

// Presigned URLs are short-lived: cache each for a few minutes, no longer.
const linkCache = new Map<string, { url: string; until: number }>();
async function resolveFileUrl(api: Api, m: Message): Promise<string> {
  const key = m.file_url ?? `${m.room_id}/${m.file_id}`;
  const hit = linkCache.get(key);
  if (hit && hit.until > Date.now()) return hit.url;
  const link = m.file_url ? await api.fileLink(m.file_url) : await api.fileLinkById(m.room_id, m.file_id!);
  linkCache.set(key, { url: link.url, until: Date.now() + 4 * 60 * 1000 });
  return link.url;
}

/** Names the catalogue knows are shown in the language; any other name as written. */
export function readingLabel(name: string): string {
  const known: Record<string, Key> = {
    temperature: 'reading.temperature',
    pressure: 'reading.pressure',
    production_rate: 'reading.production_rate',
    humidity: 'reading.humidity',
    spindle_rpm: 'reading.spindle_rpm',
  };
  const key = known[name];
  return key ? t(key) : name.replace(/_/g, ' ');
}

function ImageAttachment({ message, api, tab }: { message: Message; api: Api; tab: number }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  const [enlarged, setEnlarged] = useState(false);
  useEffect(() => {
    let live = true;
    resolveFileUrl(api, message)
      .then((u) => live && setUrl(u))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [message.file_id]);
  const name = message.file?.filename ?? t('msg.image');
  if (failed) return <p class="muted">{t('msg.imageUnavailable', { name })}</p>;
  return (
    <figure class="msg-image">
      {url ? (
        <button
          type="button"
          class="img-button"
          tabIndex={tab}
          aria-label={t('msg.enlarge', { name })}
          onClick={() => setEnlarged(true)}
        >
          <img src={url} alt={name} />
        </button>
      ) : (
        <div class="img-placeholder" role="img" aria-label={t('msg.loadingImage')} />
      )}
      <figcaption>
        <FileAttachment message={message} api={api} compact tab={tab} />
      </figcaption>
      {enlarged && url && (
        <Modal title={name} onClose={() => setEnlarged(false)} wide>
          <img class="lightbox-img" src={url} alt={name} />
        </Modal>
      )}
    </figure>
  );
}

function FileAttachment({ message, api, compact, tab }: { message: Message; api: Api; compact?: boolean; tab: number }) {
  const file: FileInfo | null | undefined = message.file;
  const name = file?.filename ?? t('msg.file');
  return (
    <button
      type="button"
      class={compact ? 'link-button file-link' : 'file-card'}
      tabIndex={tab}
      onClick={() => void downloadFile(api, message, name)}
      aria-label={t('msg.download', { name })}
    >
      <Icon name="attach" size={16} /> {name}
      {file && <small> ({formatBytes(file.size_bytes)})</small>}
    </button>
  );
}

export async function downloadFile(api: Api, message: Message, filename: string): Promise<void> {
  const url = await resolveFileUrl(api, message);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename; // honoured same-origin; cross-origin falls back to opening it
  a.target = '_blank';
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
}

/**
 * A status or membership change in words, in the reader's language, naming
 * people as the app does (display names, not e-mail ids) and roles in words.
 */
export function describeSystem(m: Message, names: ReadonlyMap<string, string>): string {
  const name = (id: unknown): string =>
    typeof id === 'string' ? (names.get(id.toLowerCase()) ?? names.get(id) ?? id.split('@')[0] ?? id) : '';
  if (isSystemContent(m.content)) {
    const c = m.content;
    const actor = name(m.sender_id);
    const subject = name(c.user_id);
    const status = (s: unknown): string =>
      s === 'active' || s === 'resolved' || s === 'archived' ? t(`status.${s as RoomStatus}`) : String(s ?? '');
    const role = (r: unknown): string =>
      r === 'OWNER' || r === 'EDITOR' || r === 'VIEWER' ? t(`role.${r as Role}`) : String(r ?? '');
    switch (c.event) {
      case 'room_status_changed':
        return t('system.statusChanged', { actor, from: status(c.old_status), to: status(c.status) });
      case 'member_added':
        return t('system.memberAdded', { actor, member: subject, role: role(c.role) });
      case 'member_removed':
        return c.user_id === m.sender_id
          ? t('system.memberLeft', { member: subject })
          : t('system.memberRemoved', { actor, member: subject });
      case 'member_role_changed':
        return t('system.roleChanged', { actor, member: subject, role: role(c.role) });
      case 'paged': // issue 19: on-call escalation
        return t('system.paged', { member: subject, step: Number((c as { step?: unknown }).step ?? 0) + 1 });
      default:
        break;
    }
  }
  const raw = isSystemContent(m.content)
    ? (m.content.text ?? m.content.event.replace(/_/g, ' '))
    : typeof m.content === 'string'
      ? m.content
      : '';
  // The server's sentence names people by id; show the names people know.
  return raw
    .replace(/[^\s@]+@[^\s@]+\.[^\s@,;:]+/g, (id) => names.get(id.toLowerCase()) ?? id)
    .replace(/\b(OWNER|EDITOR|VIEWER)\b/g, (r) => t(`role.${r as Role}`));
}

function SystemLine({ message: m, names }: { message: Message; names: ReadonlyMap<string, string> }) {
  useT();
  const text = describeSystem(m, names);
  return (
    <div class="msg-system" role="note" data-message-id={m.message_id} data-seq={m.sequence_number}>
      <span>{text}</span>{' '}
      <time dateTime={m.created_at} title={formatFullTime(m.created_at)}>
        {formatMessageTime(m.created_at)}
      </time>
    </div>
  );
}

function EditBox({
  initial,
  onSave,
  onCancel,
}: {
  initial: string;
  /** false: the edit window has closed; the box stays open with the text */
  onSave: (v: string) => boolean;
  onCancel: () => void;
}) {
  const [value, setValue] = useState(initial);
  const [expired, setExpired] = useState(false);
  const save = (v: string): void => setExpired(!onSave(v));
  // An edit travels as one WebSocket frame: over 32 KB it could not be sent.
  const tooBig = frameBytes({ type: 'edit_message', message_id: '00000000-0000-0000-0000-000000000000', content: value }) > MAX_CLIENT_FRAME_BYTES;
  const ref = useRef<HTMLTextAreaElement>(null);
  // Before paint, not after: a caret moved later would undo a selection the user (or a
  // test driver) has already made, and typing would append instead of replace.
  useLayoutEffect(() => {
    const el = ref.current!;
    el.focus();
    el.setSelectionRange(el.value.length, el.value.length);
  }, []);
  return (
    <div class="edit-box">
      <textarea
        ref={ref}
        aria-label={t('msg.edit')}
        value={value}
        rows={2}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            if (!tooBig) save(value);
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            onCancel();
          }
        }}
      />
      {tooBig && (
        <p class="error" role="alert">
          {t('composer.editTooBig')}
        </p>
      )}
      {expired && (
        <p class="error" role="alert">
          {t('error.editWindowKept')}
        </p>
      )}
      <div class="edit-actions">
        <button type="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="button" class="primary" disabled={tooBig || expired} onClick={() => save(value)}>
          {t('common.save')}
        </button>
      </div>
    </div>
  );
}
