import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Api } from '../api';
import type { OutboxEntry } from '../conn/machine';
import { currentLocale, tn, useT } from '../i18n';
import { joinNames } from '../lib/joins';
import type { JoinLine } from '../lib/joins';
import { groupMessages, knownClientIds } from '../lib/messages';
import { describeError } from '../lib/roomState';
import { formatDayLabel } from '../lib/time';
import type { Message } from '../protocol';
import { MessageItem } from './MessageItem';
import type { DeliveryStatus, MessageActions } from './MessageItem';

interface Props {
  messages: Message[];
  outbox: OutboxEntry[];
  myId: string;
  myName: string;
  isOwner: boolean;
  /** every member may react (viewers too: a reaction is an acknowledgement) */
  canReact: boolean;
  online: boolean;
  names: ReadonlyMap<string, string>;
  hasMoreOlder: boolean;
  loadingOlder: boolean;
  loadOlder: () => Promise<boolean>;
  highlightId: string | null;
  api: Api;
  actions: MessageActions;
  joins: JoinLine[];
  /** the first message that was unread when the room opened: the divider goes above it */
  firstUnreadSeq: number | null;
  /** messages from others above what has been seen: the jump button's count */
  unseenCount: number;
  /** called with the highest number actually shown on screen (IntersectionObserver) */
  onSeen: (seq: number) => void;
  /** a message to open for editing (Up-arrow in an empty composer) */
  editId: string | null;
  onEditStarted: () => void;
}

/** An outbox entry drawn as a message until the server's copy arrives. */
function outboxAsMessage(e: OutboxEntry, myId: string, myName: string, roomId: string): Message {
  return {
    message_id: e.message_id ?? `local-${e.client_msg_id}`,
    room_id: roomId,
    sender_id: myId,
    sender_display_name: myName,
    content: e.frame.content,
    message_type: e.frame.message_type,
    mentions: e.frame.mentions,
    file_id: e.frame.file_id ?? null,
    file_url: null,
    file: null,
    created_at: new Date(e.queuedAt).toISOString(),
    edited_at: null,
    deleted_at: null,
    sequence_number: e.sequence_number ?? Number.MAX_SAFE_INTEGER,
    change_seq: 0,
    reactions: [],
    reactions_version: 0,
    client_msg_id: e.client_msg_id,
  };
}

const NEAR_BOTTOM_PX = 60;
const NAV_SELECTOR = 'article.msg';

export function MessageList(props: Props) {
  const t = useT();
  const { messages, outbox, myId, myName, hasMoreOlder, loadingOlder, loadOlder, highlightId, onSeen } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const content = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const [atBottom, setAtBottom] = useState(true);
  const prevHeight = useRef(0);
  const prevFirstId = useRef<string | null>(null);
  const [activeId, setActiveId] = useState<string | null>(null);
  const onSeenRef = useRef(onSeen);
  onSeenRef.current = onSeen;
  const placedDivider = useRef(false);

  const roomId = messages[0]?.room_id ?? '';
  const items = useMemo(() => {
    const known = knownClientIds(messages);
    const local = outbox.filter((e) => !known.has(e.client_msg_id)).map((e) => outboxAsMessage(e, myId, myName, roomId));
    return groupMessages([...messages, ...local]);
  }, [messages, outbox, myId, myName, roomId]);

  const statusOf = useMemo(() => {
    const map = new Map<string, { status: DeliveryStatus; error?: string }>();
    for (const e of outbox) {
      map.set(e.client_msg_id, {
        status: e.status,
        // Our own codes in the reader's words; the server's reason as it gave it.
        error: e.error
          ? e.error.code === 'OFFLINE' || e.error.code === 'PAYLOAD_TOO_LARGE'
            ? describeError(e.error.code, e.error.message)
            : e.error.message || e.error.code
          : undefined,
      });
    }
    return map;
  }, [outbox]);

  const joinsAfter = useMemo(() => {
    const map = new Map<number, JoinLine[]>();
    const first = messages[0]?.sequence_number ?? Infinity;
    for (const j of props.joins) {
      const key = j.afterSeq < first ? -1 : j.afterSeq;
      map.set(key, [...(map.get(key) ?? []), j]);
    }
    return map;
  }, [props.joins, messages]);

  // Keep the view pinned to the newest message while the reader is at the
  // bottom, and keep the reader's place when older messages are prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const firstId = items[0]?.message.message_id ?? null;
    if (prevFirstId.current && firstId !== prevFirstId.current && !stickToBottom.current) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (!placedDivider.current && props.firstUnreadSeq !== null && !highlightId && items.length) {
      // Opening with unread messages: start at the divider, not past it.
      const divider = el.querySelector<HTMLElement>('.new-divider');
      if (divider) {
        placedDivider.current = true;
        el.scrollTop = Math.max(0, divider.offsetTop - el.offsetTop - 24);
        stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
        setAtBottom(stickToBottom.current);
      }
    } else if (stickToBottom.current && !highlightId) {
      el.scrollTop = el.scrollHeight;
    }
    prevFirstId.current = firstId;
    prevHeight.current = el.scrollHeight;
  }, [items, props.joins]);

  // Content that grows after render (an image loading, a chart, a font) must
  // not leave a reader who was at the bottom short of it.
  useEffect(() => {
    const el = scroller.current;
    const inner = content.current;
    if (!el || !inner || typeof ResizeObserver === 'undefined') return;
    const ro = new ResizeObserver(() => {
      // A found message stays in view while photos above it load and push it down.
      const pinned = pinnedId.current
        ? el.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(pinnedId.current)}"]`)
        : null;
      if (pinned) showFound(el, pinned);
      else if (stickToBottom.current) el.scrollTop = el.scrollHeight;
      prevHeight.current = el.scrollHeight;
    });
    ro.observe(inner);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // My own new message always brings me to the bottom.
  const lastMine = outbox.length ? outbox[outbox.length - 1]!.client_msg_id : null;
  useEffect(() => {
    const el = scroller.current;
    if (el && lastMine) {
      stickToBottom.current = true;
      setAtBottom(true);
      el.scrollTop = el.scrollHeight;
    }
  }, [lastMine]);

  // A search hit or a notification: the message in the middle of the scroller (never
  // under the composer below it), until the reader scrolls for themselves.
  const pinnedId = useRef<string | null>(null);
  useEffect(() => {
    if (!highlightId) return;
    const box = scroller.current;
    const el = box?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(highlightId)}"]`);
    if (box && el) {
      stickToBottom.current = false;
      setAtBottom(false);
      pinnedId.current = highlightId;
      showFound(box, el);
      setActiveId(highlightId);
    }
  }, [highlightId, items.length]);
  useEffect(() => {
    const box = scroller.current;
    if (!box) return;
    const unpin = (): void => {
      pinnedId.current = null;
    };
    box.addEventListener('wheel', unpin, { passive: true });
    box.addEventListener('touchstart', unpin, { passive: true });
    box.addEventListener('keydown', unpin);
    return () => {
      box.removeEventListener('wheel', unpin);
      box.removeEventListener('touchstart', unpin);
      box.removeEventListener('keydown', unpin);
    };
  }, []);

  // Read marks: a message counts as read once it has been on screen while the
  // page was visible — not merely because it arrived.
  const visible = useRef(new Set<number>());
  useEffect(() => {
    const root = scroller.current;
    if (!root || typeof IntersectionObserver === 'undefined') return;
    const report = (): void => {
      if (document.visibilityState !== 'visible' || !visible.current.size) return;
      onSeenRef.current(Math.max(...visible.current));
    };
    const io = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const seq = Number((e.target as HTMLElement).dataset.seq);
          if (!Number.isFinite(seq) || seq >= Number.MAX_SAFE_INTEGER) continue;
          if (e.isIntersecting) visible.current.add(seq);
          else visible.current.delete(seq);
        }
        report();
      },
      { root, threshold: 0.6 },
    );
    const observeAll = (): void => root.querySelectorAll<HTMLElement>('[data-seq]').forEach((el) => io.observe(el));
    observeAll();
    const mo = new MutationObserver(observeAll);
    mo.observe(root, { childList: true, subtree: true });
    document.addEventListener('visibilitychange', report);
    return () => {
      io.disconnect();
      mo.disconnect();
      document.removeEventListener('visibilitychange', report);
    };
  }, []);

  const lastScrollTop = useRef(0);
  const onScroll = (): void => {
    const el = scroller.current;
    if (!el) return;
    const near = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    // Only the reader moving up unpins the view: content that grew below (an
    // image loading) changes the distance to the bottom without any scrolling.
    if (near) stickToBottom.current = true;
    else if (el.scrollTop < lastScrollTop.current - 1) stickToBottom.current = false;
    lastScrollTop.current = el.scrollTop;
    if (stickToBottom.current !== atBottom) setAtBottom(stickToBottom.current);
    if (el.scrollTop < 80 && hasMoreOlder && !loadingOlder) {
      prevHeight.current = el.scrollHeight;
      void loadOlder();
    }
  };

  const jumpToLatest = (): void => {
    const el = scroller.current;
    if (!el) return;
    stickToBottom.current = true;
    setAtBottom(true);
    el.scrollTop = el.scrollHeight;
  };

  // The list is one Tab stop: arrows move between messages (roving tabindex).
  const navigable = items.filter((it) => it.message.message_type !== 'system');
  const rovingId =
    activeId && navigable.some((it) => it.message.message_id === activeId)
      ? activeId
      : (navigable[navigable.length - 1]?.message.message_id ?? null);
  const onListKeyDown = (ev: KeyboardEvent): void => {
    const target = ev.target as HTMLElement;
    if (!target.matches(NAV_SELECTOR)) return;
    const all = Array.from(scroller.current?.querySelectorAll<HTMLElement>(NAV_SELECTOR) ?? []);
    const at = all.indexOf(target);
    let next = -1;
    if (ev.key === 'ArrowDown') next = Math.min(all.length - 1, at + 1);
    else if (ev.key === 'ArrowUp') next = Math.max(0, at - 1);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = all.length - 1;
    else return;
    ev.preventDefault();
    const el = all[next];
    if (!el) return;
    setActiveId(el.dataset.messageId ?? null);
    el.focus();
    el.scrollIntoView({ block: 'nearest' });
  };

  const dayWords = { today: t('day.today'), yesterday: t('day.yesterday') };
  const joinWords = {
    and: (a: string, b: string) => t('join.and', { a, b }),
    others: (n: number) => tn('join.otherOne', 'join.otherMany', n),
    sep: t('join.sep'),
  };
  const renderJoins = (key: number) =>
    (joinsAfter.get(key) ?? []).map((j) => (
      <div key={j.id} class="msg-system msg-join" role="note" data-join={j.kind}>
        <span>
          {t(j.kind === 'joined' ? 'join.joined' : 'join.left', { names: joinNames(j.users, joinWords) })}
        </span>
      </div>
    ));

  return (
    <div class="message-area">
      <div class="message-scroller" ref={scroller} onScroll={onScroll}>
        {hasMoreOlder && (
          <div class="older">
            <button
              type="button"
              class="link-button"
              disabled={loadingOlder}
              onClick={() => {
                stickToBottom.current = false;
                void loadOlder();
              }}
            >
              {loadingOlder ? t('room.loadingOlder') : t('room.loadOlder')}
            </button>
          </div>
        )}
        <div
          ref={content}
          class="messages"
          role="log"
          aria-label={t('room.messages')}
          aria-live="polite"
          aria-relevant="additions"
          onKeyDown={onListKeyDown}
          onFocusIn={(ev) => {
            const el = (ev.target as HTMLElement).closest<HTMLElement>(NAV_SELECTOR);
            if (el?.dataset.messageId) setActiveId(el.dataset.messageId);
          }}
        >
          {renderJoins(-1)}
          {items.length === 0 && (
            <div class="empty-state">
              <p>{t('room.empty')}</p>
            </div>
          )}
          {items.map((it, i) => {
            // After a presence line the next message names its author again.
            const prevSeq = i === 0 ? -1 : items[i - 1]!.message.sequence_number;
            const afterPresence = (joinsAfter.get(prevSeq)?.length ?? 0) > 0;
            const st = it.message.client_msg_id ? statusOf.get(it.message.client_msg_id) : undefined;
            const status: DeliveryStatus =
              st?.status ?? (it.message.sender_id === myId && it.message.client_msg_id ? 'sent' : null);
            const isFirstUnread = props.firstUnreadSeq !== null && it.message.sequence_number === props.firstUnreadSeq;
            return (
              <div key={it.message.client_msg_id ?? it.message.message_id} class="msg-wrap">
                {it.dayDivider && (
                  <div class="day-divider" role="separator">
                    <span>{formatDayLabel(it.dayDivider, dayWords, currentLocale())}</span>
                  </div>
                )}
                {isFirstUnread && (
                  <div class="new-divider" role="separator" aria-label={t('room.newMessages')}>
                    <span>{t('room.newMessages')}</span>
                  </div>
                )}
                <MessageItem
                  message={it.message}
                  showHeader={it.showHeader || afterPresence}
                  myId={myId}
                  isOwner={props.isOwner}
                  canReact={props.canReact}
                  names={props.names}
                  status={status}
                  error={st?.error}
                  highlighted={highlightId === it.message.message_id}
                  api={props.api}
                  actions={props.actions}
                  online={props.online}
                  active={rovingId === it.message.message_id}
                  editNow={props.editId === it.message.message_id}
                  onEditStarted={props.onEditStarted}
                />
                {renderJoins(it.message.sequence_number)}
              </div>
            );
          })}
        </div>
      </div>
      {!atBottom && props.unseenCount > 0 && (
        <button type="button" class="jump-latest" onClick={jumpToLatest}>
          {tn('room.jumpOne', 'room.jumpMany', props.unseenCount)} ↓
        </button>
      )}
    </div>
  );
}

/** Scroll `box` (not the page) so `el` sits in its middle, or at its top when taller. */
function showFound(box: HTMLElement, el: HTMLElement): void {
  const boxRect = box.getBoundingClientRect();
  const rect = el.getBoundingClientRect();
  const offset = rect.top - boxRect.top + box.scrollTop;
  const room = box.clientHeight - rect.height;
  box.scrollTop = Math.max(0, offset - Math.max(8, room / 2));
}
