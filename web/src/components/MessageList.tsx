import { useEffect, useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import type { Api } from '../api';
import type { OutboxEntry } from '../conn/machine';
import { groupMessages, knownClientIds } from '../lib/messages';
import type { Message } from '../protocol';
import { MessageItem } from './MessageItem';
import type { DeliveryStatus, MessageActions } from './MessageItem';

interface Props {
  messages: Message[];
  outbox: OutboxEntry[];
  myId: string;
  myName: string;
  isOwner: boolean;
  canWrite: boolean;
  online: boolean;
  names: ReadonlyMap<string, string>;
  hasMoreOlder: boolean;
  loadingOlder: boolean;
  loadOlder: () => Promise<boolean>;
  highlightId: string | null;
  api: Api;
  actions: MessageActions;
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
    sequence_number: e.sequence_number ?? Number.MAX_SAFE_INTEGER,
    reactions: [],
    client_msg_id: e.client_msg_id,
  };
}

const NEAR_BOTTOM_PX = 120;

export function MessageList(props: Props) {
  const { messages, outbox, myId, myName, hasMoreOlder, loadingOlder, loadOlder, highlightId } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const stickToBottom = useRef(true);
  const prevHeight = useRef(0);
  const prevFirstId = useRef<string | null>(null);

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
        error: e.error ? e.error.message || e.error.code : undefined,
      });
    }
    return map;
  }, [outbox]);

  // Keep the view pinned to the newest message while the reader is at the
  // bottom, and keep the reader's place when older messages are prepended.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const firstId = items[0]?.message.message_id ?? null;
    if (prevFirstId.current && firstId !== prevFirstId.current && !stickToBottom.current) {
      el.scrollTop += el.scrollHeight - prevHeight.current;
    } else if (stickToBottom.current && !highlightId) {
      el.scrollTop = el.scrollHeight;
    }
    prevFirstId.current = firstId;
    prevHeight.current = el.scrollHeight;
  }, [items]);

  // My own new message always brings me to the bottom.
  const lastMine = outbox.length ? outbox[outbox.length - 1]!.client_msg_id : null;
  useEffect(() => {
    const el = scroller.current;
    if (el && lastMine) {
      stickToBottom.current = true;
      el.scrollTop = el.scrollHeight;
    }
  }, [lastMine]);

  useEffect(() => {
    if (!highlightId) return;
    const el = scroller.current?.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(highlightId)}"]`);
    if (el) {
      stickToBottom.current = false;
      el.scrollIntoView({ block: 'center' });
    }
  }, [highlightId, items.length]);

  const onScroll = (): void => {
    const el = scroller.current;
    if (!el) return;
    stickToBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (el.scrollTop < 80 && hasMoreOlder && !loadingOlder) {
      prevHeight.current = el.scrollHeight;
      void loadOlder();
    }
  };

  return (
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
            {loadingOlder ? 'Loading older messages…' : 'Load older messages'}
          </button>
        </div>
      )}
      <div class="messages" role="log" aria-label="Messages" aria-live="polite" aria-relevant="additions">
        {items.length === 0 && <p class="muted empty">No messages yet. Say what you see.</p>}
        {items.map((it) => {
          const st = it.message.client_msg_id ? statusOf.get(it.message.client_msg_id) : undefined;
          const status: DeliveryStatus =
            st?.status ?? (it.message.sender_id === myId && it.message.client_msg_id ? 'sent' : null);
          return (
            <div key={it.message.client_msg_id ?? it.message.message_id} class="msg-wrap">
              {it.dayDivider && (
                <div class="day-divider" role="separator" aria-label={it.dayDivider}>
                  <span>{it.dayDivider}</span>
                </div>
              )}
              <MessageItem
                message={it.message}
                showHeader={it.showHeader}
                myId={myId}
                isOwner={props.isOwner}
                canWrite={props.canWrite}
                names={props.names}
                status={status}
                error={st?.error}
                highlighted={highlightId === it.message.message_id}
                api={props.api}
                actions={props.actions}
                online={props.online}
              />
            </div>
          );
        })}
      </div>
    </div>
  );
}
