import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import { segmentMentions } from '../lib/mentions';
import { formatBytes } from '../lib/format';
import { formatFullTime, formatMessageTime } from '../lib/time';
import { EDIT_WINDOW_MS, isIncidentData, isSystemContent } from '../protocol';
import type { FileInfo, IncidentData, Message } from '../protocol';
import { Icon } from './Icon';
import { initials } from './Login';

export const REACTION_EMOJI = ['👍', '✅', '👀', '🔥', '❗', '🙏'] as const;

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | null;

export interface MessageActions {
  copy: (m: Message) => void;
  edit: (m: Message, content: string) => void;
  remove: (m: Message) => void;
  react: (m: Message, emoji: string) => void;
  retry: (clientMsgId: string) => void;
  discard: (clientMsgId: string) => void;
}

interface Props {
  message: Message;
  showHeader: boolean;
  myId: string;
  isOwner: boolean;
  canWrite: boolean;
  names: ReadonlyMap<string, string>;
  status: DeliveryStatus;
  error?: string;
  highlighted: boolean;
  api: Api;
  actions: MessageActions;
  online: boolean;
}

function MessageItemImpl(props: Props) {
  return props.message.message_type === 'system' ? (
    <SystemLine message={props.message} names={props.names} />
  ) : (
    <UserMessage {...props} />
  );
}

function UserMessage(props: Props) {
  const { message: m, showHeader, myId, isOwner, canWrite, status, actions, highlighted } = props;
  const [selected, setSelected] = useState(false);
  const [editing, setEditing] = useState(false);
  const [picking, setPicking] = useState(false);
  const pressTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const rootRef = useRef<HTMLElement>(null);

  const mine = m.sender_id === myId;
  const deleted = Boolean(m.deleted_at);
  const confirmed = status !== 'pending' && status !== 'failed';
  const withinWindow = Date.now() - Date.parse(m.created_at) < EDIT_WINDOW_MS;
  const canEdit = mine && confirmed && !deleted && withinWindow && m.message_type === 'text' && props.online;
  const canDelete = confirmed && !deleted && (mine || isOwner) && props.online;
  const canReact = confirmed && !deleted && canWrite && props.online;
  const text = typeof m.content === 'string' ? m.content : '';

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
      // Focusable so keyboard users reach the actions (shown on focus-within).
      tabIndex={0}
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
        </header>
      )}
      <div class="msg-body">
        {!showHeader && (
          <time class="msg-time msg-time-inline" dateTime={m.created_at} title={formatFullTime(m.created_at)}>
            {formatMessageTime(m.created_at)}
          </time>
        )}
        {deleted ? (
          <p class="msg-deleted">
            <em>message deleted</em>
          </p>
        ) : editing ? (
          <EditBox
            initial={text}
            onCancel={() => setEditing(false)}
            onSave={(value) => {
              setEditing(false);
              if (value.trim() && value !== text) actions.edit(m, value);
            }}
          />
        ) : (
          <MessageContent {...props} />
        )}
        {m.edited_at && !deleted && <span class="msg-edited">(edited)</span>}
        {mine && status && status !== 'sent' && (
          <span class={`msg-status msg-status-${status}`} role={status === 'failed' ? 'alert' : undefined}>
            {status === 'pending' ? 'Sending…' : `Not sent${props.error ? `: ${props.error}` : ''}`}
          </span>
        )}
        {mine && status === 'sent' && (
          <span class="msg-status msg-status-sent" aria-label="Sent" title="Sent">
            ✓
          </span>
        )}
        {status === 'failed' && m.client_msg_id && (
          <span class="msg-retry">
            <button type="button" class="link-button" onClick={() => actions.retry(m.client_msg_id!)}>
              Retry
            </button>
            <button type="button" class="link-button" onClick={() => actions.discard(m.client_msg_id!)}>
              Discard
            </button>
          </span>
        )}
        {!deleted && m.reactions.length > 0 && (
          <div class="reactions" role="group" aria-label="Reactions">
            {m.reactions.map((r) => {
              const minePressed = r.user_ids.includes(myId);
              return (
                <button
                  key={r.emoji}
                  type="button"
                  class={`reaction${minePressed ? ' reaction-mine' : ''}`}
                  aria-pressed={minePressed}
                  aria-label={`${r.emoji} ${r.count}${minePressed ? ', including you' : ''}`}
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
        <div class="msg-actions" role="toolbar" aria-label="Message actions">
          {text && (
            <button type="button" onClick={() => actions.copy(m)} aria-label="Copy text" title="Copy text">
              <Icon name="copy" size={16} />
            </button>
          )}
          {canReact && (
            <button
              type="button"
              aria-label="Add reaction"
              title="Add reaction"
              aria-expanded={picking}
              onClick={() => setPicking((p) => !p)}
            >
              <Icon name="smile" size={16} />
            </button>
          )}
          {canEdit && (
            <button type="button" onClick={() => setEditing(true)} aria-label="Edit message" title="Edit">
              <Icon name="edit" size={16} />
            </button>
          )}
          {canDelete && (
            <button type="button" onClick={() => actions.remove(m)} aria-label="Delete message" title="Delete">
              <Icon name="trash" size={16} />
            </button>
          )}
          {picking && (
            <div class="emoji-picker" role="group" aria-label="Choose a reaction">
              {REACTION_EMOJI.map((e) => (
                <button
                  key={e}
                  type="button"
                  aria-label={`React ${e}`}
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

function MessageContent({ message: m, names, myId, api }: Props) {
  switch (m.message_type) {
    case 'incident_data':
      return isIncidentData(m.content) ? <ReadingsTable data={m.content} /> : <p class="msg-text">(invalid readings)</p>;
    case 'image_ref':
      return (
        <>
          <ImageAttachment message={m} api={api} />
          {typeof m.content === 'string' && m.content && <MentionText text={m.content} message={m} names={names} myId={myId} />}
        </>
      );
    case 'file_ref':
      return (
        <>
          <FileAttachment message={m} api={api} />
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
  const caption = [data.machine_id, data.line].filter(Boolean).join(' · ') || 'Readings';
  return (
    <div class="readings">
      <table>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Reading</th>
            <th scope="col">Value</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(data.readings).map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k.replace(/_/g, ' ')}</th>
              <td>
                {String(v)}
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

function ImageAttachment({ message, api }: { message: Message; api: Api }) {
  const [url, setUrl] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let live = true;
    resolveFileUrl(api, message)
      .then((u) => live && setUrl(u))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [message.file_id]);
  const name = message.file?.filename ?? 'image';
  if (failed) return <p class="muted">Image unavailable ({name})</p>;
  return (
    <figure class="msg-image">
      {url ? <img src={url} alt={name} loading="lazy" /> : <div class="img-placeholder" aria-label="Loading image" />}
      <figcaption>
        <FileAttachment message={message} api={api} compact />
      </figcaption>
    </figure>
  );
}

function FileAttachment({ message, api, compact }: { message: Message; api: Api; compact?: boolean }) {
  const file: FileInfo | null | undefined = message.file;
  const name = file?.filename ?? 'file';
  return (
    <button
      type="button"
      class={compact ? 'link-button file-link' : 'file-card'}
      onClick={() => void downloadFile(api, message, name)}
      aria-label={`Download ${name}`}
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

function SystemLine({ message: m, names }: { message: Message; names: ReadonlyMap<string, string> }) {
  const raw = isSystemContent(m.content)
    ? (m.content.text ?? m.content.event.replace(/_/g, ' '))
    : typeof m.content === 'string'
      ? m.content
      : 'system event';
  // The server's sentence names people by id; show the names people know.
  const text = raw.replace(/[^\s@]+@[^\s@]+\.[^\s@,;:]+/g, (id) => names.get(id.toLowerCase()) ?? id);
  return (
    <div class="msg-system" role="note" data-message-id={m.message_id} data-seq={m.sequence_number}>
      <span>{text}</span>{' '}
      <time dateTime={m.created_at} title={formatFullTime(m.created_at)}>
        {formatMessageTime(m.created_at)}
      </time>
    </div>
  );
}

function EditBox({ initial, onSave, onCancel }: { initial: string; onSave: (v: string) => void; onCancel: () => void }) {
  const [value, setValue] = useState(initial);
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
        aria-label="Edit message"
        value={value}
        rows={2}
        onInput={(e) => setValue(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
            e.preventDefault();
            onSave(value);
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            onCancel();
          }
        }}
      />
      <div class="edit-actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={() => onSave(value)}>
          Save
        </button>
      </div>
    </div>
  );
}
