/**
 * Everything live about one room: its details, members, messages, the room
 * connection and what arrives on it. Components read the model and call its
 * actions; no component touches the socket directly.
 */

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { buildSocketUrl, Connection } from '../conn/socket';
import type { ConnState } from '../conn/machine';
import { registerConnection } from '../debug';
import { t } from '../i18n';
import { errorMessage } from '../lib/format';
import { addJoinEvent } from '../lib/joins';
import type { JoinLine } from '../lib/joins';
import { applyDeleted, applyReactions, fetchFullCopies, mergeChanges, mergeMessages } from '../lib/messages';
import { confirmWrites, isWrite, writeKey, writesToRetry } from '../lib/writes';
import type { PendingWrite } from '../lib/writes';
import { alertForMessage } from '../notify/notifier';
import type { ClientFrame, Member, Message, Room, SendMessageFrame, ServerFrame, SystemFrame, UserSummary } from '../protocol';
import { navigate, roomHref } from '../router';
import { useSession } from '../session';

export const TYPING_SILENCE_MS = 3000;

export interface TypingPerson {
  user_id: string;
  display_name: string;
  until: number;
}

export interface RoomModel {
  room: Room | null;
  members: Member[];
  messages: Message[];
  hasMoreOlder: boolean;
  loadingOlder: boolean;
  loaded: boolean;
  conn: ConnState | null;
  online: UserSummary[];
  typing: TypingPerson[];
  error: string | null;
  /** the HTTP status behind `error` (404/403: a bad or foreign room link) */
  errorStatus: number | null;
  notice: string | null;
  clearNotice: () => void;
  setNotice: (text: string) => void;
  /** mentioned people who are not members (from the last ack that listed any) */
  unresolved: string[];
  clearUnresolved: () => void;
  joins: JoinLine[];
  loadOlder: () => Promise<boolean>;
  send: (frame: SendMessageFrame) => void;
  control: (frame: ClientFrame) => boolean;
  retry: (clientMsgId: string) => void;
  discard: (clientMsgId: string) => void;
  reconnectNow: () => void;
  reloadRoom: () => Promise<void>;
  reloadMembers: () => Promise<void>;
}

export function useRoom(roomId: string): RoomModel {
  const session = useSession();
  const { api, me, config, auth } = session;
  const [room, setRoom] = useState<Room | null>(null);
  const [members, setMembers] = useState<Member[]>([]);
  const [messages, setMessages] = useState<Message[]>([]);
  const [hasMoreOlder, setHasMoreOlder] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [conn, setConn] = useState<ConnState | null>(null);
  const [online, setOnline] = useState<UserSummary[]>([]);
  const [typing, setTyping] = useState<TypingPerson[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [errorStatus, setErrorStatus] = useState<number | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [unresolved, setUnresolved] = useState<string[]>([]);
  const [joins, setJoins] = useState<JoinLine[]>([]);
  const pendingWrites = useRef(new Map<string, PendingWrite>());
  const hasMoreOlderRef = useRef(false);
  hasMoreOlderRef.current = hasMoreOlder;
  const connRef = useRef<Connection | null>(null);
  const messagesRef = useRef<Message[]>([]);
  messagesRef.current = messages;
  const roomRef = useRef<Room | null>(null);
  roomRef.current = room;

  const reloadRoom = useCallback(async () => {
    const r = await api.room(roomId);
    setRoom(r);
    session.updateRoom(roomId, { status: r.status, title: r.title, severity: r.severity });
  }, [api, roomId]);

  const reloadMembers = useCallback(async () => {
    const body = await api.members(roomId);
    setMembers(body.members);
  }, [api, roomId]);

  // A message too large for one WebSocket frame arrives without its content:
  // read it in full over HTTP, and the merge replaces the held copy.
  const fetchTruncated = (list: readonly Message[]): void => {
    if (!list.some((m) => m.content_truncated)) return;
    void fetchFullCopies(list, (seq) => api.messageAt(roomId, seq)).then((full) =>
      setMessages((current) => mergeMessages(current, full)),
    );
  };

  const onJoinOrLeave = (frame: SystemFrame): void => {
    const users: UserSummary[] =
      frame.users && frame.users.length
        ? frame.users
        : frame.user_id
          ? [{ user_id: frame.user_id, display_name: frame.display_name ?? frame.user_id }]
          : [];
    const at = frame.timestamp ? Date.parse(frame.timestamp) || Date.now() : Date.now();
    const afterSeq = messagesRef.current.reduce((m, x) => Math.max(m, x.sequence_number), 0);
    setJoins((lines) =>
      addJoinEvent(lines, frame.event === 'user_joined' ? 'joined' : 'left', users, at, afterSeq, me.user_id),
    );
  };

  const control = useCallback((frame: ClientFrame): boolean => {
    const sent = connRef.current?.control(frame) ?? false;
    if (sent && isWrite(frame)) pendingWrites.current.set(writeKey(frame), { frame, at: Date.now() });
    return sent;
  }, []);

  const onFrame = (frame: ServerFrame): void => {
    if (frame.type === 'message_edited' || frame.type === 'message_deleted' || frame.type === 'reaction_updated') {
      pendingWrites.current = confirmWrites(pendingWrites.current, frame);
    }
    if (frame.type === 'message' || frame.type === 'message_edited') fetchTruncated([frame.message]);
    if (frame.type === 'sync') fetchTruncated(frame.messages);
    switch (frame.type) {
      case 'message': {
        const m = frame.message;
        setMessages((list) => mergeMessages(list, [m]));
        if (m.sender_id !== me.user_id && m.message_type !== 'system') {
          setTyping((t) => t.filter((p) => p.user_id !== m.sender_id));
          alertForMessage(
            {
              roomId,
              roomTitle: roomRef.current?.title ?? t('app.name'),
              message: m,
              isMention: m.mentions.includes(me.user_id),
            },
            (rid, mid) => navigate(roomHref(rid, mid)),
          );
        }
        if (m.message_type === 'system') {
          void reloadRoom().catch(() => undefined);
          void reloadMembers().catch(() => undefined);
        }
        return;
      }
      case 'message_edited':
        setMessages((list) => mergeMessages(list, [frame.message]));
        return;
      case 'message_deleted':
        setMessages((list) => applyDeleted(list, frame.message_id, frame.deleted_at));
        return;
      case 'reaction_updated':
        setMessages((list) => applyReactions(list, frame.message_id, frame.reactions, frame.version));
        return;
      case 'sync':
        // A change sync brings the current state of anything changed (edits,
        // deletions, reactions); a sequence sync only new messages.
        setMessages((list) =>
          frame.after_change !== undefined
            ? mergeChanges(list, frame.messages, !hasMoreOlderRef.current)
            : mergeMessages(list, frame.messages),
        );
        return;
      case 'presence':
        setOnline(frame.online);
        return;
      case 'typing': {
        if (frame.user_id === me.user_id) return;
        setTyping((t) => {
          const rest = t.filter((p) => p.user_id !== frame.user_id);
          return frame.is_typing
            ? [...rest, { user_id: frame.user_id, display_name: frame.display_name, until: Date.now() + TYPING_SILENCE_MS }]
            : rest;
        });
        return;
      }
      case 'system':
        if (frame.event === 'user_joined' || frame.event === 'user_left') {
          onJoinOrLeave(frame);
          connRef.current?.control({ type: 'presence' });
        } else if (frame.event === 'room_status_changed') {
          void reloadRoom().catch(() => undefined);
        } else if (frame.event === 'member_added' || frame.event === 'member_removed') {
          void reloadMembers().catch(() => undefined);
        }
        return;
      case 'error':
        if (frame.client_msg_id) return; // the outbox's own
        if (frame.code === 'RATE_LIMITED') {
          // An edit, deletion or reaction refused for the rate: all of them are
          // idempotent, so send every unconfirmed one again once the wait is over.
          const wait = Math.max(0.2, frame.retry_after ?? 1) * 1000;
          setTimeout(() => {
            for (const w of writesToRetry(pendingWrites.current, Date.now())) control(w);
          }, wait);
          setNotice(t('error.rateLimitedRetry', { seconds: Math.max(1, Math.ceil(wait / 1000)) }));
          return;
        }
        // Refused for good (which one is not said): do not send any of them again.
        pendingWrites.current = new Map();
        setNotice(describeError(frame.code, frame.message, frame.retry_after));
        return;
      case 'ack':
        if (frame.unresolved_mentions?.length) setUnresolved(frame.unresolved_mentions);
        return;
      case 'pong':
      case 'notification':
        return;
      default: {
        const never: never = frame;
        console.warn('warroom: unexpected frame', never);
      }
    }
  };
  const onFrameRef = useRef(onFrame);
  onFrameRef.current = onFrame;

  // Load the room, then connect from the newest message we hold.
  useEffect(() => {
    let cancelled = false;
    let connection: Connection | null = null;
    (async () => {
      try {
        const [r, mem, page] = await Promise.all([
          api.room(roomId),
          api.members(roomId),
          api.history(roomId, { limit: 50 }),
        ]);
        if (cancelled) return;
        const initial = [...page.messages].reverse();
        setRoom(r);
        setMembers(mem.members);
        setMessages(mergeMessages([], initial));
        setHasMoreOlder(page.has_more);
        setLoaded(true);
        const lastSeq = initial.reduce((m, x) => Math.max(m, x.sequence_number), 0);
        const lastChange = initial.reduce((m, x) => Math.max(m, x.change_seq ?? 0), 0);
        fetchTruncated(initial);
        connection = new Connection({
          room: true,
          lastSeq,
          lastChange,
          httpSend: (frame) => api.sendMessage(roomId, frame),
          url: async () => buildSocketUrl(config.wsUrl, await auth.getToken(), roomId),
          onFrame: (f) => onFrameRef.current(f),
          onState: (s) => {
            if (!cancelled) setConn(s);
          },
          probeFailure: async () => {
            try {
              await api.room(roomId);
              return null;
            } catch (err) {
              if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
                return t('room.noLongerMember');
              }
              return null;
            }
          },
        });
        connRef.current = connection;
        registerConnection('room', connection);
        connection.start();
      } catch (err) {
        if (cancelled) return;
        setError(errorMessage(err));
        setErrorStatus(err instanceof ApiError ? err.status : null);
      }
    })();
    return () => {
      cancelled = true;
      connection?.stop();
      connRef.current = null;
      registerConnection('room', undefined);
    };
  }, [roomId, api, auth, config.wsUrl]);

  // Ask who is online once connected (and after each reconnect).
  useEffect(() => {
    if (conn?.status === 'open') connRef.current?.control({ type: 'presence' });
  }, [conn?.status]);

  // "X is typing…" disappears after 3 s without a new typing frame.
  useEffect(() => {
    if (!typing.length) return;
    const next = Math.min(...typing.map((p) => p.until));
    const t = setTimeout(() => setTyping((list) => list.filter((p) => p.until > Date.now())), Math.max(0, next - Date.now()) + 20);
    return () => clearTimeout(t);
  }, [typing]);

  const loadOlder = useCallback(async (): Promise<boolean> => {
    const oldest = messagesRef.current[0];
    if (!oldest || loadingOlder) return false;
    setLoadingOlder(true);
    try {
      const page = await api.history(roomId, { limit: 50, beforeSeq: oldest.sequence_number });
      connRef.current?.noteHistory(page.messages);
      setMessages((list) => mergeMessages(list, page.messages));
      setHasMoreOlder(page.has_more);
      return page.has_more;
    } catch (err) {
      setNotice(t('room.olderFailed', { reason: errorMessage(err) }));
      return false;
    } finally {
      setLoadingOlder(false);
    }
  }, [api, roomId, loadingOlder]);

  return {
    room,
    members,
    messages,
    hasMoreOlder,
    loadingOlder,
    loaded,
    conn,
    online,
    typing,
    error,
    errorStatus,
    notice,
    clearNotice: () => setNotice(null),
    setNotice,
    unresolved,
    clearUnresolved: () => setUnresolved([]),
    joins,
    loadOlder,
    send: (frame) => connRef.current?.send(frame),
    control,
    retry: (id) => connRef.current?.retryMessage(id),
    discard: (id) => connRef.current?.discardMessage(id),
    reconnectNow: () => connRef.current?.reconnectNow(),
    reloadRoom,
    reloadMembers,
  };
}

/** A refusal in words a person can act on. */
export function describeError(code: string, message: string, retryAfter?: number): string {
  switch (code) {
    case 'EDIT_WINDOW_EXPIRED':
      return t('error.editWindow');
    case 'FORBIDDEN':
      return t('error.forbidden', { reason: message });
    case 'RATE_LIMITED':
      return t('error.rateLimited', { seconds: Math.max(1, Math.ceil(retryAfter ?? 1)) });
    case 'PAYLOAD_TOO_LARGE':
      return t('error.tooLarge');
    case 'CONFLICT':
      return t('error.conflict', { reason: message });
    case 'OFFLINE':
      return t('error.offline');
    default:
      return message || code;
  }
}
