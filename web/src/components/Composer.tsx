import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { uploadPresigned } from '../api';
import type { Api } from '../api';
import { t, useT } from '../i18n';
import { errorMessage, formatBytes, utf8Length } from '../lib/format';
import { newClientMsgId } from '../lib/ids';
import { extractMentions, filterCandidates, findActiveMention, insertMention } from '../lib/mentions';
import type { ActiveMention, MentionCandidate } from '../lib/mentions';
import type { IncidentData, Limits, Role, SendMessageFrame } from '../protocol';
import { MAX_CONTENT_BYTES } from '../protocol';
import { ErrorAlert } from './Form';
import { Icon } from './Icon';
import { IncidentForm } from './IncidentForm';

interface Props {
  roomId: string;
  api: Api;
  members: Array<MentionCandidate & { role?: Role }>;
  myId: string;
  /** the sender's and the room's last readings, to prefill the readings form */
  readings?: { mine: IncidentData | null; room: IncidentData | null };
  /** OWNER only: make a mentioned viewer an editor (one tap) */
  onMakeEditor?: (userId: string) => Promise<void>;
  send: (frame: SendMessageFrame) => void;
  /** typing frames are best-effort and dropped while offline */
  typing: (isTyping: boolean) => void;
  disabledReason: string | null;
  /** focus the message box when the room opens (desktop) */
  autoFocus?: boolean;
  /** Up-arrow in an empty box: edit my last message; true when it did */
  onEditLast?: () => boolean;
}

const TYPING_REPEAT_MS = 2000;

interface Upload {
  file: File;
  progress: number | null;
  error: string | null;
  abort?: AbortController;
}

let limitsCache: Promise<Limits> | null = null;

/**
 * A picked file not yet sent, per room: it survives leaving the room (the
 * composer unmounts) like the text outbox does, and is back in the tray on return.
 */
const pickedFiles = new Map<string, File>();

export function Composer({ roomId, api, members, myId, send, typing, disabledReason, autoFocus, onEditLast, readings, onMakeEditor }: Props) {
  useT();
  const [text, setText] = useState('');
  const [active, setActive] = useState<ActiveMention | null>(null);
  const [highlight, setHighlight] = useState(0);
  const [limits, setLimits] = useState<Limits | null>(null);
  const [upload, setUploadState] = useState<Upload | null>(() => {
    const file = pickedFiles.get(roomId);
    return file ? { file, progress: null, error: null } : null;
  });
  const setUpload = (next: Upload | null | ((u: Upload | null) => Upload | null)): void =>
    setUploadState((u) => {
      const value = typeof next === 'function' ? next(u) : next;
      if (value) pickedFiles.set(roomId, value.file);
      else pickedFiles.delete(roomId);
      return value;
    });
  const [showIncident, setShowIncident] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const lastTypingSent = useRef(0);
  // A picked file lives in this page's memory: closing or reloading the page asks first.
  useEffect(() => {
    if (!upload) return;
    const ask = (ev: BeforeUnloadEvent): void => ev.preventDefault();
    window.addEventListener('beforeunload', ask);
    return () => window.removeEventListener('beforeunload', ask);
  }, [Boolean(upload)]);

  // Leaving the room stops an upload under way; its file stays picked for the return.
  const leaving = useRef(false);
  const running = useRef<AbortController | null>(null);
  useEffect(
    () => () => {
      leaving.current = true;
      running.current?.abort();
    },
    [],
  );
  const listId = `mention-list-${roomId}`;

  useEffect(() => {
    if (autoFocus) area.current?.focus({ preventScroll: true });
  }, [autoFocus, disabledReason]);

  // A thumbnail of a picked image, so the person sees what they are about to share.
  const [thumb, setThumb] = useState<string | null>(null);
  useEffect(() => {
    if (!upload || !upload.file.type.startsWith('image/')) {
      setThumb(null);
      return;
    }
    const url = URL.createObjectURL(upload.file);
    setThumb(url);
    return () => URL.revokeObjectURL(url);
  }, [upload?.file]);

  useEffect(() => {
    limitsCache ??= api.limits().catch((err: unknown) => {
      limitsCache = null;
      throw err;
    });
    limitsCache.then(setLimits).catch(() => undefined);
  }, [api]);

  // Others first; mentioning myself is allowed but rarely meant.
  const candidates = useMemo(
    () => [...members.filter((m) => m.user_id !== myId), ...members.filter((m) => m.user_id === myId)],
    [members, myId],
  );
  const matches = useMemo(() => (active ? filterCandidates(candidates, active.query) : []), [active, candidates]);
  const open = active !== null && matches.length > 0;

  useEffect(() => setHighlight(0), [active?.query]);

  // Mentioned people who are viewers cannot answer in words: the sender is told before sending.
  const mentionedViewers = useMemo(() => {
    const ids = new Set(extractMentions(text, members));
    return members.filter((m) => m.role === 'VIEWER' && ids.has(m.user_id));
  }, [text, members]);

  const refreshActive = (value: string, caret: number): void => {
    setActive(findActiveMention(value, caret));
  };

  const choose = (c: MentionCandidate): void => {
    if (!active) return;
    const next = insertMention(text, active, c);
    setText(next.text);
    setActive(null);
    requestAnimationFrame(() => {
      const el = area.current;
      if (!el) return;
      el.focus();
      el.setSelectionRange(next.caret, next.caret);
    });
  };

  const submit = (): void => {
    if (disabledReason) return;
    // A picked file goes with the main send button, the typed text as its caption.
    if (upload && upload.progress === null && !upload.error) {
      void startUpload();
      return;
    }
    const content = text.trim();
    if (!content) return;
    const max = limits?.max_content_bytes ?? MAX_CONTENT_BYTES;
    const size = utf8Length(content);
    if (size > max) {
      // Refused here, with the numbers: the server would refuse it for good.
      setError(t('composer.tooLong', { size: formatBytes(size), max: formatBytes(max) }));
      return;
    }
    send({
      type: 'message',
      client_msg_id: newClientMsgId(),
      message_type: 'text',
      content,
      mentions: extractMentions(content, members),
    });
    setText('');
    setActive(null);
    setError(null);
    typing(false);
    lastTypingSent.current = 0;
  };

  const onKeyDown = (ev: KeyboardEvent): void => {
    if (open) {
      if (ev.key === 'ArrowDown') {
        ev.preventDefault();
        setHighlight((h) => (h + 1) % matches.length);
        return;
      }
      if (ev.key === 'ArrowUp') {
        ev.preventDefault();
        setHighlight((h) => (h - 1 + matches.length) % matches.length);
        return;
      }
      if (ev.key === 'Enter' || ev.key === 'Tab') {
        ev.preventDefault();
        choose(matches[Math.min(highlight, matches.length - 1)]!);
        return;
      }
      if (ev.key === 'Escape') {
        ev.preventDefault();
        ev.stopPropagation();
        setActive(null);
        return;
      }
    }
    if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      submit();
      return;
    }
    if (ev.key === 'ArrowUp' && !text && !ev.shiftKey && !ev.altKey && onEditLast?.()) {
      ev.preventDefault();
    }
  };

  const onInput = (ev: Event): void => {
    const el = ev.currentTarget as HTMLTextAreaElement;
    setText(el.value);
    refreshActive(el.value, el.selectionStart ?? el.value.length);
    const now = Date.now();
    if (el.value && now - lastTypingSent.current > TYPING_REPEAT_MS) {
      lastTypingSent.current = now;
      typing(true);
    }
  };

  const pickFile = (file: File): void => {
    setError(null);
    if (limits && file.size > limits.max_file_bytes) {
      setUpload({ file, progress: null, error: t('upload.tooLarge', { max: formatBytes(limits.max_file_bytes) }) });
      return;
    }
    if (limits && limits.allowed_content_types.length && !typeAllowed(file.type, limits.allowed_content_types)) {
      setUpload({ file, progress: null, error: t('upload.typeNotAllowed', { type: file.type || t('upload.unknownType') }) });
      return;
    }
    setUpload({ file, progress: null, error: null });
  };

  const startUpload = async (): Promise<void> => {
    if (!upload) return;
    const { file } = upload;
    const abort = new AbortController();
    running.current = abort;
    setUpload({ file, progress: 0, error: null, abort });
    try {
      const ticket = await api.requestUpload(roomId, {
        filename: file.name,
        content_type: file.type || 'application/octet-stream',
        size: file.size,
      });
      await uploadPresigned(ticket, file, (p) => setUpload((u) => (u ? { ...u, progress: p } : u)), abort.signal);
      const caption = text.trim();
      send({
        type: 'message',
        client_msg_id: newClientMsgId(),
        message_type: file.type.startsWith('image/') ? 'image_ref' : 'file_ref',
        content: caption || null,
        mentions: caption ? extractMentions(caption, members) : [],
        file_id: ticket.file_id,
      });
      setText('');
      setUpload(null);
    } catch (err) {
      if ((err as DOMException).name === 'AbortError') {
        if (!leaving.current) setUpload(null);
      }
      else setUpload((u) => (u ? { ...u, progress: null, error: errorMessage(err) } : u));
    }
  };

  if (disabledReason) {
    return (
      <div class="composer composer-disabled" role="note">
        {disabledReason}
      </div>
    );
  }

  const limitText = limits
    ? t('upload.limit', { max: formatBytes(limits.max_file_bytes) }) +
      (limits.allowed_content_types.length ? ` · ${describeTypes(limits.allowed_content_types)}` : '')
    : '';

  return (
    <div class="composer">
      {upload && (
        <div class="upload-tray" role="group" aria-label={t('upload.tray')}>
          <div class="upload-info">
            {thumb ? (
              <img class="upload-thumb" src={thumb} alt={t('upload.preview', { name: upload.file.name })} />
            ) : (
              <Icon name="attach" size={16} />
            )}{' '}
            <strong>{upload.file.name}</strong>{' '}
            <small>
              ({formatBytes(upload.file.size)}) {limitText && t('upload.limitNote', { limit: limitText })}
            </small>
          </div>
          {upload.progress !== null && (
            <progress max={1} value={upload.progress} aria-label={t('upload.uploading', { name: upload.file.name })}>
              {Math.round(upload.progress * 100)}%
            </progress>
          )}
          <ErrorAlert error={upload.error} />
          <div class="upload-actions">
            {upload.progress === null && !upload.error && <small class="muted">{t('photoSend.hint')}</small>}
            <button
              type="button"
              onClick={() => {
                upload.abort?.abort();
                setUpload(null);
              }}
            >
              {t('common.cancel')}
            </button>
          </div>
        </div>
      )}
      <ErrorAlert error={error} />
      {mentionedViewers.length > 0 && (
        <div class="viewer-warning" role="status">
          {mentionedViewers.map((v) => (
            <p key={v.user_id}>
              {t('mentionViewer.warning', { name: v.display_name })}{' '}
              {onMakeEditor && (
                <button
                  type="button"
                  class="link-button"
                  onClick={() => void onMakeEditor(v.user_id).catch((err: unknown) => setError(errorMessage(err)))}
                >
                  {t('mentionViewer.makeEditor', { name: v.display_name })}
                </button>
              )}
            </p>
          ))}
        </div>
      )}
      <div class="composer-row">
        <button
          type="button"
          class="icon-button"
          aria-label={t('composer.attach')}
          title={limitText ? t('composer.attachLimit', { limit: limitText }) : t('composer.attach')}
          onClick={() => fileInput.current?.click()}
        >
          <Icon name="attach" />
        </button>
        <input
          ref={fileInput}
          type="file"
          class="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          accept={limits?.allowed_content_types.join(',') || undefined}
          onChange={(e) => {
            const f = e.currentTarget.files?.[0];
            if (f) pickFile(f);
            e.currentTarget.value = '';
          }}
        />
        <button
          type="button"
          class="icon-button"
          aria-label={t('incident.title')}
          title={t('incident.title')}
          onClick={() => setShowIncident(true)}
        >
          <Icon name="chart" />
        </button>
        <div class="composer-input">
          {open && (
            <ul class="mention-list" id={listId} role="listbox" aria-label={t('composer.mentionList')}>
              {matches.map((c, i) => (
                <li
                  key={c.user_id}
                  id={`${listId}-${i}`}
                  role="option"
                  aria-selected={i === highlight}
                  class={i === highlight ? 'active' : ''}
                  onMouseDown={(e) => {
                    e.preventDefault(); // keep focus in the textbox
                    choose(c);
                  }}
                  onMouseEnter={() => setHighlight(i)}
                >
                  <strong>{c.display_name}</strong> <small>{c.user_id}</small>
                </li>
              ))}
            </ul>
          )}
          <textarea
            ref={area}
            id="composer-input"
            aria-label={t('composer.label')}
            placeholder={t('composer.placeholder')}
            title={t('composer.hint')}
            rows={1}
            value={text}
            aria-autocomplete="list"
            aria-controls={open ? listId : undefined}
            aria-activedescendant={open ? `${listId}-${highlight}` : undefined}
            onInput={onInput}
            onKeyDown={onKeyDown}
            onClick={(e) => refreshActive(e.currentTarget.value, e.currentTarget.selectionStart ?? 0)}
            onBlur={() => setTimeout(() => setActive(null), 150)}
          />
        </div>
        <button
          type="button"
          class="primary send-button"
          onClick={submit}
          disabled={!text.trim() && !(upload && upload.progress === null && !upload.error)}
        >
          {t('composer.send')}
        </button>
      </div>
      {showIncident && (
        <IncidentForm
          mine={readings?.mine}
          room={readings?.room}
          onClose={() => setShowIncident(false)}
          onSubmit={(data) => {
            send({
              type: 'message',
              client_msg_id: newClientMsgId(),
              message_type: 'incident_data',
              content: data,
              mentions: [],
            });
            setShowIncident(false);
          }}
        />
      )}
    </div>
  );
}

function typeAllowed(type: string, allowed: string[]): boolean {
  return allowed.some((a) => a === type || (a.endsWith('/*') && type.startsWith(a.slice(0, -1))));
}

/** Allowed types in words a person knows (photos, PDF, spreadsheets…), not MIME types. */
export function describeTypes(types: string[]): string {
  const kinds: string[] = [];
  const add = (k: string): void => {
    if (!kinds.includes(k)) kinds.push(k);
  };
  for (const type of types) {
    if (type.startsWith('image/')) add(t('fileKind.images'));
    else if (type === 'application/pdf') add('PDF');
    else if (type.startsWith('text/') || type === 'application/json') add(t('fileKind.text'));
    else if (type.includes('spreadsheet') || type.includes('excel')) add(t('fileKind.spreadsheets'));
    else if (type.includes('word')) add(t('fileKind.documents'));
    else if (type.startsWith('video/')) add(t('fileKind.videos'));
    else if (type.includes('zip')) add('ZIP');
  }
  return kinds.join(t('fileKind.separator'));
}
