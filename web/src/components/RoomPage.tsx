import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { tn, useT } from '../i18n';
import { errorMessage } from '../lib/format';
import { reactionAction } from '../lib/messages';
import { lastReading } from '../lib/readings';
import { saveRoom } from '../offline/cache';
import type { Message } from '../protocol';
import { useSession } from '../session';
import { ActionBar } from './ActionBar';
import type { Tool } from './ActionBar';
import { Composer } from './Composer';
import { ConnectionBanner } from './ConnectionBanner';
import { Icon } from './Icon';
import { Loading } from './Loading';
import { MessageList } from './MessageList';
import { editTimeLeft } from './MessageItem';
import type { MessageActions } from './MessageItem';
import { NotificationPrompt } from './NotificationPrompt';
import { NotificationSettings } from './NotificationSettings';
import { ReadingsPanel } from './ReadingsPanel';
import { ReportPreview } from './ReportPreview';
import { RoomChips } from './RoomChips';
import { ConfirmDelete, FilesPanel, MembersPanel, StatusPanel } from './RoomPanels';
import { useRoom } from './useRoom';
import { EightDPreview } from './EightDPreview';
import { FollowUpsPanel } from './FollowUpsPanel';
import { ImpactPanel } from './ImpactPanel';
import { StateBar } from './StateBar';
import { TimelinePanel } from './TimelinePanel';

const MAX_PAGES_TO_FIND_TARGET = 20;

export function RoomPage({ roomId, targetMessageId, wide }: { roomId: string; targetMessageId: string | null; wide: boolean }) {
  const t = useT();
  const session = useSession();
  const { me, api } = session;
  const model = useRoom(roomId);
  const { room, members, messages, conn, online, typing } = model;
  const [tool, setTool] = useState<Tool | null>(null);
  const [showReadings, setShowReadings] = useState(false);
  const [deleting, setDeleting] = useState<Message | null>(null);
  const [highlightId, setHighlightId] = useState<string | null>(null);
  const [editId, setEditId] = useState<string | null>(null);
  useEffect(() => {
    // What this device keeps for reading the room offline (issue 19)
    if (!room || !model.loaded) return;
    const timer = setTimeout(() => void saveRoom(room, messages).catch(() => undefined), 500);
    return () => clearTimeout(timer);
  }, [room, messages, model.loaded]);

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
  const lastReadings = useMemo(
    () => ({ mine: lastReading(messages, me.user_id), room: lastReading(messages) }),
    [messages, me.user_id],
  );

  // Where the reader had read up to when the room opened: the divider goes at
  // the first message after it (from someone else), and stays there.
  const [firstUnreadSeq, setFirstUnreadSeq] = useState<number | null | undefined>(undefined);
  useEffect(() => {
    if (firstUnreadSeq !== undefined || !model.loaded) return;
    const lastRead = members.find((m) => m.user_id === me.user_id)?.last_read_seq ?? 0;
    const first = messages.find((m) => m.sequence_number > lastRead && m.sender_id !== me.user_id && m.message_type !== 'system');
    setFirstUnreadSeq(first && lastRead > 0 ? first.sequence_number : null);
    // What was read before stays read; this visit only adds what it shows.
    lastMarked.current = Math.max(lastMarked.current, lastRead);
    onSeen(lastRead);
  }, [model.loaded, members, messages]);

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

  // Read marks advance only over messages that were on screen (the list tells
  // us which); the server hears after a short pause, or when the room is left.
  const lastMarked = useRef(0);
  const [seenSeq, setSeenSeq] = useState(0);
  const seenRef = useRef(0);
  const onSeen = useCallback((seq: number) => {
    if (seq > seenRef.current) {
      seenRef.current = seq;
      setSeenSeq(seq);
    }
  }, []);
  const unseen = messages.filter(
    (m) => m.sequence_number > seenSeq && m.sender_id !== me.user_id && m.message_type !== 'system',
  );
  const unseenMentions = unseen.filter((m) => m.mentions.includes(me.user_id)).length;
  useEffect(() => {
    if (firstUnreadSeq === undefined) return;
    session.updateRoom(roomId, { unread_count: unseen.length, mention_count: unseenMentions });
  }, [unseen.length, unseenMentions, firstUnreadSeq, session.roomsLoaded]);
  const markRead = useCallback(() => {
    const seq = seenRef.current;
    if (!seq || seq <= lastMarked.current) return;
    lastMarked.current = seq;
    api.markRead(roomId, seq).catch(() => {
      lastMarked.current = 0;
    });
  }, [api, roomId]);
  useEffect(() => {
    if (!seenSeq) return;
    const timer = setTimeout(markRead, 500);
    return () => clearTimeout(timer);
  }, [seenSeq, markRead]);
  useEffect(() => () => markRead(), [markRead]);

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
      copy: async (m) => {
        if (typeof m.content !== 'string' || !navigator.clipboard) return false;
        try {
          await navigator.clipboard.writeText(m.content);
          return true;
        } catch {
          return false;
        }
      },
      edit: (m, content) => {
        if (!model.control({ type: 'edit_message', message_id: m.message_id, content })) {
          model.setNotice(t('error.offlineAction'));
        }
      },
      remove: (m) => setDeleting(m),
      react: (m, emoji) => {
        model.control({ type: reactionAction(m, emoji, me.user_id), message_id: m.message_id, emoji });
      },
      retry: (id) => model.retry(id),
      discard: (id) => model.discard(id),
      pin: (m) => {
        api
          .pin(roomId, m.message_id)
          .then(() => model.setNotice(t('record.pinned')))
          .catch((err: unknown) => model.setNotice(errorMessage(err)));
      },
    }),
    [model.control, model.retry, model.discard, me.user_id],
  );

  // Up-arrow in an empty composer edits my last message, if it still can be.
  const editLast = useCallback((): boolean => {
    const mine = [...messages]
      .reverse()
      .find((m) => m.sender_id === me.user_id && m.message_type === 'text' && !m.deleted_at);
    if (!mine || editTimeLeft(mine.created_at) <= 0 || !isOnline) return false;
    setEditId(mine.message_id);
    return true;
  }, [messages, me.user_id, isOnline]);

  if (model.error) {
    const gone = model.errorStatus === 404 || model.errorStatus === 403 || model.errorStatus === 422 || model.errorStatus === 400;
    return (
      <section class="room-page room-error">
        <div class="empty-state" role="alert">
          <h1>{gone ? t('room.notFoundTitle') : t('room.openFailedTitle')}</h1>
          <p>{gone ? t('room.notFoundText') : t('room.openFailedText', { reason: model.error })}</p>
          <p>
            {!gone && (
              <button type="button" onClick={() => location.reload()}>
                {t('common.tryAgain')}
              </button>
            )}{' '}
            <a href="#/">{t('room.backToRooms')}</a>
          </p>
        </div>
      </section>
    );
  }
  if (!room) return <Loading text={t('room.loading')} />;

  const disabledReason = !canWrite ? t('composer.viewer') : room.status === 'archived' ? t('composer.archived') : null;

  const typingText =
    typing.length === 0
      ? ''
      : typing.length === 1
        ? t('typing.one', { a: typing[0]!.display_name })
        : typing.length === 2
          ? t('typing.two', { a: typing[0]!.display_name, b: typing[1]!.display_name })
          : t('typing.many');

  return (
    <section class={`room-page sev-${room.severity}`} aria-labelledby="room-title">
      <header class="room-header">
        <a href="#/" class="back-link" aria-label={t('room.backToRooms')}>
          <Icon name="back" size={22} />
        </a>
        <div class="room-heading">
          <h1 id="room-title">{room.title}</h1>
          <div class="room-meta">
            <RoomChips room={room} />
            {room.lots.length > 0 && <span class="room-lots-inline">{t('room.lots', { lots: room.lots.join(', ') })}</span>}
            <StateBar room={room} api={api} canWrite={canWrite} names={names} onMoved={model.reloadRoom} />
          </div>
        </div>
        <ul
          class={`online-list${isOnline ? '' : ' stale'}`}
          aria-label={isOnline ? t('room.onlineNow', { count: online.length }) : t('room.onlineStale')}
          data-stale={isOnline ? 'false' : 'true'}
        >
          {online.slice(0, 6).map((o) => (
            <li key={o.user_id} title={isOnline ? t('room.isOnline', { name: o.display_name }) : t('room.wasOnline', { name: o.display_name })}>
              <span class={`presence-dot${isOnline ? ' online' : ' stale'}`} aria-hidden="true" />
              <span class="online-name">{o.display_name}</span>
            </li>
          ))}
          {online.length > 6 && <li>+{online.length - 6}</li>}
          {/* On a phone the names do not fit: the dots get a word beside them. */}
          {online.length > 0 && (
            <li class="online-count" aria-hidden="true">
              {t('presenceWords.onlineCount', { count: online.length })}
            </li>
          )}
        </ul>
      </header>
      <ActionBar
        onOpen={(tool) => (tool === 'readings' ? setShowReadings((v) => !v) : setTool(tool))}
        memberCount={members.length}
        readingsOpen={showReadings}
      />
      {conn && <ConnectionBanner state={conn} label={t('conn.room')} onReconnectNow={model.reconnectNow} />}
      <NotificationPrompt />
      {model.notice && (
        <div class="notice" role="alert">
          {model.notice}{' '}
          <button type="button" class="link-button" onClick={model.clearNotice}>
            {t('common.dismiss')}
          </button>
        </div>
      )}
      {model.unresolved.length > 0 && (
        <UnresolvedMentions
          ids={model.unresolved}
          isOwner={isOwner}
          onAdd={async (id) => {
            await api.addMember(roomId, id, 'EDITOR');
            await model.reloadMembers();
          }}
          onClose={model.clearUnresolved}
        />
      )}
      {showReadings && <ReadingsPanel api={api} roomId={roomId} messages={messages} onClose={() => setShowReadings(false)} lineId={model.room?.line_id} live={model.liveReadings} />}
      {firstUnreadSeq === undefined ? (
        <div class="message-area">
          <Loading text={t('room.loading')} />
        </div>
      ) : (
        <MessageList
          messages={messages}
          outbox={conn?.outbox ?? []}
          myId={me.user_id}
          myName={me.display_name}
          isOwner={isOwner}
          canReact={myRole !== null && room.status !== 'archived'}
          online={isOnline}
          names={names}
          hasMoreOlder={model.hasMoreOlder}
          loadingOlder={model.loadingOlder}
          loadOlder={model.loadOlder}
          highlightId={highlightId}
          api={api}
          actions={actions}
          joins={model.joins}
          firstUnreadSeq={firstUnreadSeq ?? null}
          unseenCount={unseen.length}
          onSeen={onSeen}
          editId={editId}
          onEditStarted={() => setEditId(null)}
        />
      )}
      <div class="typing" aria-live="polite">
        {typingText}
      </div>
      <Composer
        key={roomId}
        roomId={roomId}
        readings={lastReadings}
        onMakeEditor={
          isOwner
            ? async (userId) => {
                await api.setMemberRole(roomId, userId, 'EDITOR');
                await model.reloadMembers();
              }
            : undefined
        }
        api={api}
        members={members}
        myId={me.user_id}
        send={model.send}
        typing={sendTyping}
        disabledReason={disabledReason}
        autoFocus={wide && !targetMessageId}
        onEditLast={editLast}
      />
      {tool === 'members' && (
        <MembersPanel
          roomId={roomId}
          members={members}
          onlineIds={onlineIds}
          isOwner={isOwner}
          commanderId={room.commander_id}
          onHandOver={canWrite ? (userId) => api.handOver(roomId, userId) : undefined}
          onChanged={model.reloadMembers}
          onClose={() => setTool(null)}
        />
      )}
      {tool === 'files' && <FilesPanel roomId={roomId} onClose={() => setTool(null)} />}
      {tool === 'report' && <ReportPreview room={room} messages={messages} api={api} onClose={() => setTool(null)} />}
      {tool === 'notifications' && <NotificationSettings api={api} onClose={() => setTool(null)} />}
      {tool === 'timeline' && (
        <TimelinePanel roomId={roomId} api={api} canWrite={canWrite} names={names} version={room.last_seq} onClose={() => setTool(null)} />
      )}
      {tool === 'followUps' && (
        <FollowUpsPanel roomId={roomId} api={api} members={members} canWrite={canWrite} version={room.last_seq} onClose={() => setTool(null)} />
      )}
      {tool === 'impact' && <ImpactPanel room={room} api={api} canWrite={canWrite} onClose={() => setTool(null)} />}
      {tool === 'eightD' && <EightDPreview room={room} api={api} onClose={() => setTool(null)} />}
      {tool === 'status' && (
        <StatusPanel room={room} isOwner={isOwner} onSaved={model.reloadRoom} onClose={() => setTool(null)} />
      )}
      {deleting && (
        <ConfirmDelete
          onClose={() => setDeleting(null)}
          onConfirm={() => {
            if (!model.control({ type: 'delete_message', message_id: deleting.message_id })) {
              model.setNotice(t('error.offlineAction'));
            }
            setDeleting(null);
          }}
        />
      )}
    </section>
  );
}

/** The last send mentioned people outside the room: they were not told. */
function UnresolvedMentions({
  ids,
  isOwner,
  onAdd,
  onClose,
}: {
  ids: string[];
  isOwner: boolean;
  onAdd: (id: string) => Promise<void>;
  onClose: () => void;
}) {
  const t = useT();
  const [added, setAdded] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  return (
    <div class="notice unresolved" role="alert">
      <p>{tn('unresolved.one', 'unresolved.many', ids.length, { ids: ids.join(', ') })}</p>
      {isOwner && (
        <ul class="unresolved-list">
          {ids.map((id) => (
            <li key={id}>
              <span>{id}</span>{' '}
              {added.includes(id) ? (
                <span class="muted">{t('unresolved.added')}</span>
              ) : (
                <button
                  type="button"
                  onClick={() =>
                    void onAdd(id)
                      .then(() => setAdded((a) => [...a, id]))
                      .catch((err: unknown) => setError(errorMessage(err)))
                  }
                >
                  {t('unresolved.addToRoom')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {error && <p class="error">{error}</p>}
      <button type="button" class="link-button" onClick={onClose}>
        {t('common.dismiss')}
      </button>
    </div>
  );
}
