/**
 * Everything live about one room: its details, members, messages, the room
 * connection and what arrives on it. The state and what each server frame does
 * to it live in lib/roomState.ts (a pure reducer); this hook loads the room,
 * runs the connection, feeds every frame to the reducer once, and carries out
 * the effects the reducer asks for. No component touches the socket directly.
 */

import { useCallback, useEffect, useReducer, useRef } from 'preact/hooks';
import { ApiError } from '../api';
import { buildSocketUrl, Connection } from '../conn/socket';
import { registerConnection } from '../debug';
import { t } from '../i18n';
import { errorMessage } from '../lib/format';
import { fetchFullCopies } from '../lib/messages';
import { initialRoomState, resumePoint, roomReducer } from '../lib/roomState';
import type { RoomEffect, RoomState } from '../lib/roomState';
import { isWrite, writesToRetry } from '../lib/writes';
import { alertForMessage } from '../notify/notifier';
import type { ClientFrame, SendMessageFrame } from '../protocol';
import { navigate, roomHref } from '../router';
import { useSession } from '../session';

export type { TypingPerson } from '../lib/roomState';

/** What a room screen reads: the reducer's state, less its bookkeeping, and what it can do. */
export interface RoomModel extends Omit<RoomState, 'myId' | 'writes' | 'effects'> {
  clearNotice: () => void;
  setNotice: (text: string) => void;
  clearUnresolved: () => void;
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
  const [state, dispatch] = useReducer(roomReducer, me.user_id, initialRoomState);
  const stateRef = useRef<RoomState>(state);
  stateRef.current = state;
  const connRef = useRef<Connection | null>(null);

  const reloadRoom = useCallback(async () => {
    const r = await api.room(roomId);
    dispatch({ type: 'room', room: r });
    session.updateRoom(roomId, { status: r.status, title: r.title, severity: r.severity });
  }, [api, roomId]);

  const reloadMembers = useCallback(async () => {
    const body = await api.members(roomId);
    dispatch({ type: 'members', members: body.members });
  }, [api, roomId]);

  const control = useCallback((frame: ClientFrame): boolean => {
    const sent = connRef.current?.control(frame) ?? false;
    if (sent && isWrite(frame)) dispatch({ type: 'write_sent', frame, now: Date.now() });
    return sent;
  }, []);

  const run = (effect: RoomEffect): void => {
    switch (effect.type) {
      case 'fetch_full':
        // A message too large for one WebSocket frame arrives without its
        // content: read it in full over HTTP, and the merge replaces the held copy.
        void fetchFullCopies(effect.messages, (seq) => api.messageAt(roomId, seq)).then((full) =>
          dispatch({ type: 'full_copies', messages: full }),
        );
        return;
      case 'alert':
        alertForMessage(
          {
            roomId,
            roomTitle: effect.roomTitle ?? t('app.name'),
            message: effect.message,
            isMention: effect.isMention,
          },
          (rid, mid) => navigate(roomHref(rid, mid)),
        );
        return;
      case 'reload_room':
        void reloadRoom().catch(() => undefined);
        return;
      case 'reload_members':
        void reloadMembers().catch(() => undefined);
        return;
      case 'ask_presence':
        connRef.current?.control({ type: 'presence' });
        return;
      case 'retry_writes':
        setTimeout(() => {
          for (const w of writesToRetry(stateRef.current.writes, Date.now())) control(w);
        }, effect.afterMs);
        return;
      default: {
        const never: never = effect;
        console.warn('warroom: unexpected room effect', never);
      }
    }
  };

  // Carry out what the reducer asked for, once each, after the render.
  useEffect(() => {
    const todo = state.effects;
    if (!todo.length) return;
    dispatch({ type: 'effects_done', count: todo.length });
    for (const effect of todo) run(effect);
  }, [state.effects]);

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
        dispatch({ type: 'opened', room: r, members: mem.members, messages: initial, hasMore: page.has_more });
        connection = new Connection({
          room: true,
          ...resumePoint(initial),
          httpSend: (frame) => api.sendMessage(roomId, frame),
          url: async () => buildSocketUrl(config.wsUrl, await auth.getToken(), roomId),
          // Every server frame reaches the room's state through this one dispatch.
          onFrame: (frame) => dispatch({ type: 'frame', frame, now: Date.now() }),
          onState: (conn) => {
            if (!cancelled) dispatch({ type: 'conn', conn });
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
        dispatch({ type: 'open_failed', error: errorMessage(err), status: err instanceof ApiError ? err.status : null });
      }
    })();
    return () => {
      cancelled = true;
      connection?.stop();
      connRef.current = null;
      registerConnection('room', undefined);
    };
  }, [roomId, api, auth, config.wsUrl]);

  // "X is typing…" disappears after 3 s without a new typing frame.
  const { typing } = state;
  useEffect(() => {
    if (!typing.length) return;
    const next = Math.min(...typing.map((p) => p.until));
    const timer = setTimeout(
      () => dispatch({ type: 'typing_expired', now: Date.now() }),
      Math.max(0, next - Date.now()) + 20,
    );
    return () => clearTimeout(timer);
  }, [typing]);

  const loadOlder = useCallback(async (): Promise<boolean> => {
    const oldest = stateRef.current.messages[0];
    if (!oldest || stateRef.current.loadingOlder) return false;
    dispatch({ type: 'older_loading' });
    try {
      const page = await api.history(roomId, { limit: 50, beforeSeq: oldest.sequence_number });
      connRef.current?.noteHistory(page.messages);
      dispatch({ type: 'older_loaded', messages: page.messages, hasMore: page.has_more });
      return page.has_more;
    } catch (err) {
      dispatch({ type: 'older_failed', reason: errorMessage(err) });
      return false;
    }
  }, [api, roomId, state.loadingOlder]);

  const { myId: _myId, writes: _writes, effects: _effects, ...view } = state;
  return {
    ...view,
    clearNotice: () => dispatch({ type: 'notice', text: null }),
    setNotice: (text) => dispatch({ type: 'notice', text }),
    clearUnresolved: () => dispatch({ type: 'clear_unresolved' }),
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
