import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { reactionAction } from '../lib/messages';
import type { Message } from '../protocol';
import { useSession } from '../session';
import { ActionBar } from './ActionBar';
import type { Tool } from './ActionBar';
import { Composer } from './Composer';
import { ConnectionBanner } from './ConnectionBanner';
import { Icon } from './Icon';
import { MessageList } from './MessageList';
import type { MessageActions } from './MessageItem';
import { NotificationPrompt } from './NotificationPrompt';
import { NotificationSettings } from './NotificationSettings';
import { ReportPreview } from './ReportPreview';
import { RoomChips } from './RoomChips';
import { ConfirmDelete, FilesPanel, MembersPanel, StatusPanel } from './RoomPanels';
import { useRoom } from './useRoom';

const MAX_PAGES_TO_FIND_TARGET = 20;

export function RoomPage({ roomId, targetMessageId }: { roomId: string; targetMessageId: string | null }) {
  const session = useSession();
  const { me, api } = session;
  const model = useRoom(roomId);
  const { room, members, messages, conn, online, typing } = model;
  const [tool, setTool] = useState<Tool | null>(null);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);

  useEffect(() => {
    session.setOpenRoom(roomId);
    return () => session.setOpenRoom(null);
  }, [roomId]);

  const myRole = members.find((m) => m.user_id === me.user_id)?.role ?? room?.my_role ?? null;
  const isOwner = myRole === 'OWNER';
  const canWrite = myRole === 'OWNER' || myRole === 'EDITOR';
  const isOnline = conn?.status === 'open';

  const names = useMemo(() => {
    const map = new Map<string, string>();
    for (const m of messages) map.set(m.sender_id, m.sender_display_name);
    for (const m of members) map.set(m.user_id, m.display_name);
    return map;
  }, [members, messages]);
  const onlineIds = useMemo(() => new Set(online.map((o) => o.user_id)), [online]);

  // Opened from a search hit or a notification: page back until the message
  // is loaded, then scroll to it and mark it.
  const searched = useRef<string | null>(null);
  const searchedPages = useRef(new Map<string, number>());
  useEffect(() => {
    if (!targetMessageId || !model.loaded || searched.current === targetMessageId) return;
    if (messages.some((m) => m.message_id === targetMessageId)) {
      searched.current = targetMessageId;
      setHighlightId(targetMessageId);
      return;
    }
    if (!model.hasMoreOlder || model.loadingOlder) return;
    const pages = Number(searchedPages.current.get(targetMessageId) ?? 0);
    if (pages >= MAX_PAGES_TO_FIND_TARGET) return;
    searchedPages.current.set(targetMessageId, pages + 1);
    void model.loadOlder();
  }, [targetMessageId, model.loaded, messages, model.hasMoreOlder, model.loadingOlder]);

  // Read marker: everything on screen is read while the tab is visible. The
  // list's badges clear at once; the server hears after a short pause (one
  // request for a burst of messages) or when the room is left.
  const maxSeq = messages.reduce((m, x) => Math.max(m, x.sequence_number), 0);
  const maxSeqRef = useRef(0);
  maxSeqRef.current = maxSeq;
  const lastMarked = useRef(0);
  const markRead = useCallback(() => {
    const seq = maxSeqRef.current;
    if (!seq || seq <= lastMarked.current || document.visibilityState !== 'visible') return;
    lastMarked.current = seq;
    session.updateRoom(roomId, { unread_count: 0, mention_count: 0 });
    api.markRead(roomId, seq).catch(() => {
      lastMarked.current = 0;
    });
  }, [api, roomId]);
  useEffect(() => {
    if (!maxSeq) return;
    const t = setTimeout(markRead, 500);
    return () => clearTimeout(t);
  }, [maxSeq, markRead]);
  useEffect(() => {
    document.addEventListener('visibilitychange', markRead);
    return () => {
      document.removeEventListener('visibilitychange', markRead);
      markRead(); // leaving the room: flush
    };
  }, [markRead]);

  const typingTimer = useRef(0);
  const sendTyping = useCallback(
    (isTyping: boolean) => {
      // Only tell others "stopped" if we told them "started".
      if (!isTyping && !typingTimer.current) return;
      typingTimer.current = isTyping ? Date.now() : 0;
      model.control({ type: 'typing', is_typing: isTyping });
    },
    [model.control],
  );

  const actions: MessageActions = useMemo(
    () => ({
      copy: (m) => {
        if (typeof m.content === 'string') {
          void navigator.clipboard?.writeText(m.content).catch(() => undefined);
        }
      },
      edit: (m, content) => {
        model.control({ type: 'edit_message', message_id: m.message_id, content });
      },
      remove: (m) => setDeleting(m),
      react: (m, emoji) => {
        model.control({ type: reactionAction(m, emoji, me.user_id), message_id: m.message_id, emoji });
      },
      retry: (id) => model.retry(id),
      discard: (id) => model.discard(id),
    }),
    [model.control, model.retry, model.discard, me.user_id],
  );

  if (model.error) {
    return (
      <section class="room-page">
        <p class="error" role="alert">
          Could not open this room: {model.error}
        </p>
        <p>
          <button type="button" onClick={() => location.reload()}>
            Try again
          </button>{' '}
          <a href="#/">Back to rooms</a>
        </p>
      </section>
    );
  }
  if (!room) return <p role="status">Loading room…</p>;

  const disabledReason = !canWrite
    ? 'You can read this room but not write in it (viewer).'
    : room.status === 'archived'
      ? 'This room is archived.'
      : null;

  const typingText =
    typing.length === 0
      ? ''
      : typing.length === 1
        ? `${typing[0]!.display_name} is typing…`
        : typing.length === 2
          ? `${typing[0]!.display_name} and ${typing[1]!.display_name} are typing…`
          : 'Several people are typing…';

  return (
    <section class={`room-page sev-${room.severity}`} aria-labelledby="room-title">
      <header class="room-header">
        <a href="#/" class="back-link" aria-label="Back to rooms">
          <Icon name="back" size={22} />
        </a>
        <div class="room-heading">
          <h1 id="room-title">{room.title}</h1>
          <div class="room-meta">
            <RoomChips room={room} />
            {room.lots.length > 0 && <span class="room-lots-inline">Lots: {room.lots.join(', ')}</span>}
          </div>
        </div>
        <ul class="online-list" aria-label={`Online now: ${online.length}`}>
          {online.slice(0, 6).map((o) => (
            <li key={o.user_id} title={`${o.display_name} (online)`}>
              <span class="presence-dot online" aria-hidden="true" />
              <span class="online-name">{o.display_name}</span>
            </li>
          ))}
          {online.length > 6 && <li>+{online.length - 6}</li>}
        </ul>
      </header>
      <ActionBar onOpen={setTool} memberCount={members.length} />
      {conn && <ConnectionBanner state={conn} label="Room" onReconnectNow={model.reconnectNow} />}
      <NotificationPrompt />
      {model.notice && (
        <div class="notice" role="alert">
          {model.notice}{' '}
          <button type="button" class="link-button" onClick={model.clearNotice}>
            Dismiss
          </button>
        </div>
      )}
      <MessageList
        messages={messages}
        outbox={conn?.outbox ?? []}
        myId={me.user_id}
        myName={me.display_name}
        isOwner={isOwner}
        canWrite={canWrite}
        online={isOnline}
        names={names}
        hasMoreOlder={model.hasMoreOlder}
        loadingOlder={model.loadingOlder}
        loadOlder={model.loadOlder}
        highlightId={highlightId}
        api={api}
        actions={actions}
      />
      <div class="typing" aria-live="polite">
        {typingText}
      </div>
      <Composer
        roomId={roomId}
        api={api}
        members={members}
        myId={me.user_id}
        send={model.send}
        typing={sendTyping}
        disabledReason={disabledReason}
      />
      {tool === 'members' && (
        <MembersPanel
          roomId={roomId}
          members={members}
          onlineIds={onlineIds}
          isOwner={isOwner}
          onChanged={model.reloadMembers}
          onClose={() => setTool(null)}
        />
      )}
      {tool === 'files' && <FilesPanel roomId={roomId} onClose={() => setTool(null)} />}
      {tool === 'report' && <ReportPreview roomId={roomId} title={room.title} onClose={() => setTool(null)} />}
      {tool === 'notifications' && <NotificationSettings onClose={() => setTool(null)} />}
      {tool === 'status' && (
        <StatusPanel room={room} isOwner={isOwner} onSaved={model.reloadRoom} onClose={() => setTool(null)} />
      )}
      {deleting && (
        <ConfirmDelete
          onClose={() => setDeleting(null)}
          onConfirm={() => {
            model.control({ type: 'delete_message', message_id: deleting.message_id });
            setDeleting(null);
          }}
        />
      )}
    </section>
  );
}
