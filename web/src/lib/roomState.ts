/**
 * What is on screen about one room, as plain data, and the one place that
 * decides what each server frame does to it. `roomReducer` is pure: it returns
 * the next state, and anything a frame asks of the world (read a full copy,
 * reload the room, alert, ask who is online, send writes again) is written
 * into `effects` for useRoom to carry out after the render, so every rule here
 * is unit-tested without a socket, a timer or a DOM.
 *
 * (The connection machine, conn/machine.ts, hands every frame over unchanged;
 * it keeps only what a frame does to the connection: numbers, outbox, heartbeat.)
 */

import type { ConnState } from '../conn/machine';
import { t } from '../i18n';
import type { Member, Message, ReadingsFrame, Room, ServerFrame, SystemFrame, UserSummary } from '../protocol';
import { addJoinEvent } from './joins';
import type { JoinLine } from './joins';
import { applyDeleted, applyReactions, mergeChanges, mergeMessages } from './messages';
import { confirmWrites, writeKey } from './writes';
import type { PendingWrite, WriteFrame } from './writes';

export const TYPING_SILENCE_MS = 3000;

export interface TypingPerson {
  user_id: string;
  display_name: string;
  until: number;
}

/** Something a frame or a page asks of the world, carried out by useRoom. */
export type RoomEffect =
  /** read these messages (which came without their content) in full over HTTP */
  | { type: 'fetch_full'; messages: Message[] }
  /** a message from someone else: the notifier decides whether to alert */
  | { type: 'alert'; message: Message; roomTitle: string | null; isMention: boolean }
  | { type: 'reload_room' }
  | { type: 'reload_members' }
  /** ask the room who is online */
  | { type: 'ask_presence' }
  /** after the wait, send every unconfirmed write again */
  | { type: 'retry_writes'; afterMs: number };

export interface RoomState {
  myId: string;
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
  /** mentioned people who are not members (from the last ack that listed any) */
  unresolved: string[];
  joins: JoinLine[];
  /** the last `readings` frame: the line's latest machine values (issue 18) */
  liveReadings: ReadingsFrame | null;
  /** edits, deletions and reactions sent and not yet seen coming back */
  writes: ReadonlyMap<string, PendingWrite>;
  /** not yet carried out, oldest first */
  effects: RoomEffect[];
}

export type RoomAction =
  /** the first page of the room: details, members and the newest messages (oldest first) */
  | { type: 'opened'; room: Room; members: Member[]; messages: Message[]; hasMore: boolean }
  | { type: 'open_failed'; error: string; status: number | null }
  | { type: 'room'; room: Room }
  | { type: 'members'; members: Member[] }
  | { type: 'frame'; frame: ServerFrame; now: number }
  | { type: 'conn'; conn: ConnState }
  | { type: 'write_sent'; frame: WriteFrame; now: number }
  | { type: 'older_loading' }
  | { type: 'older_loaded'; messages: Message[]; hasMore: boolean }
  | { type: 'older_failed'; reason: string }
  | { type: 'full_copies'; messages: Message[] }
  | { type: 'typing_expired'; now: number }
  | { type: 'notice'; text: string | null }
  | { type: 'clear_unresolved' }
  /** the first `count` effects were carried out */
  | { type: 'effects_done'; count: number };

export function initialRoomState(myId: string): RoomState {
  return {
    myId,
    room: null,
    members: [],
    messages: [],
    hasMoreOlder: false,
    loadingOlder: false,
    loaded: false,
    conn: null,
    online: [],
    typing: [],
    error: null,
    errorStatus: null,
    notice: null,
    unresolved: [],
    joins: [],
    liveReadings: null,
    writes: new Map(),
    effects: [],
  };
}

/**
 * Where the room connection resumes from, given the messages the first page
 * brought: the highest sequence number for new messages, and the highest
 * change number (edits, deletions and reactions renumber a message, so an old
 * message can carry the newest change) for changes.
 */
export function resumePoint(messages: readonly Message[]): { lastSeq: number; lastChange: number } {
  return {
    lastSeq: messages.reduce((m, x) => Math.max(m, x.sequence_number), 0),
    lastChange: messages.reduce((m, x) => Math.max(m, x.change_seq ?? 0), 0),
  };
}

const truncated = (list: readonly Message[]): RoomEffect[] =>
  list.some((m) => m.content_truncated) ? [{ type: 'fetch_full', messages: list.filter((m) => m.content_truncated) }] : [];

export function roomReducer(state: RoomState, action: RoomAction): RoomState {
  switch (action.type) {
    case 'opened':
      return withEffects(
        {
          ...state,
          room: action.room,
          members: action.members,
          messages: mergeMessages([], action.messages),
          hasMoreOlder: action.hasMore,
          loaded: true,
        },
        truncated(action.messages),
      );
    case 'open_failed':
      return { ...state, error: action.error, errorStatus: action.status };
    case 'room':
      return { ...state, room: action.room };
    case 'members':
      return { ...state, members: action.members };
    case 'frame':
      return onFrame(state, action.frame, action.now);
    case 'conn': {
      if (action.conn === state.conn) return state;
      const next = { ...state, conn: action.conn };
      // Ask who is online once connected, and after each reconnect.
      const opened = action.conn.status === 'open' && state.conn?.status !== 'open';
      return opened ? withEffects(next, [{ type: 'ask_presence' }]) : next;
    }
    case 'write_sent': {
      // A newer write to the same thing replaces the older one.
      const writes = new Map(state.writes);
      writes.set(writeKey(action.frame), { frame: action.frame, at: action.now });
      return { ...state, writes };
    }
    case 'older_loading':
      return { ...state, loadingOlder: true };
    case 'older_loaded':
      return {
        ...state,
        loadingOlder: false,
        messages: mergeMessages(state.messages, action.messages),
        hasMoreOlder: action.hasMore,
      };
    case 'older_failed':
      return { ...state, loadingOlder: false, notice: t('room.olderFailed', { reason: action.reason }) };
    case 'full_copies':
      return action.messages.length ? { ...state, messages: mergeMessages(state.messages, action.messages) } : state;
    case 'typing_expired': {
      const typing = state.typing.filter((p) => p.until > action.now);
      return typing.length === state.typing.length ? state : { ...state, typing };
    }
    case 'notice':
      return { ...state, notice: action.text };
    case 'clear_unresolved':
      return { ...state, unresolved: [] };
    case 'effects_done':
      return action.count ? { ...state, effects: state.effects.slice(action.count) } : state;
    default: {
      const never: never = action;
      throw new Error(`unhandled room action ${(never as { type: string }).type}`);
    }
  }
}

function withEffects(state: RoomState, effects: readonly RoomEffect[]): RoomState {
  return effects.length ? { ...state, effects: [...state.effects, ...effects] } : state;
}

/** What one server frame does to the room. */
function onFrame(state: RoomState, frame: ServerFrame, now: number): RoomState {
  switch (frame.type) {
    case 'message': {
      const m = frame.message;
      let next: RoomState = { ...state, messages: mergeMessages(state.messages, [m]) };
      const effects = truncated([m]);
      if (m.sender_id !== state.myId && m.message_type !== 'system') {
        // Someone who sends has stopped typing.
        next = { ...next, typing: next.typing.filter((p) => p.user_id !== m.sender_id) };
        effects.push({ type: 'alert', message: m, roomTitle: state.room?.title ?? null, isMention: m.mentions.includes(state.myId) });
      }
      // A system message records a change to the room or its members.
      if (m.message_type === 'system') effects.push({ type: 'reload_room' }, { type: 'reload_members' });
      return withEffects(next, effects);
    }
    case 'message_edited':
      return withEffects(
        { ...state, writes: confirmWrites(state.writes, frame), messages: mergeMessages(state.messages, [frame.message]) },
        truncated([frame.message]),
      );
    case 'message_deleted':
      return {
        ...state,
        writes: confirmWrites(state.writes, frame),
        messages: applyDeleted(state.messages, frame.message_id, frame.deleted_at),
      };
    case 'reaction_updated':
      return {
        ...state,
        writes: confirmWrites(state.writes, frame),
        messages: applyReactions(state.messages, frame.message_id, frame.reactions, frame.version),
      };
    case 'sync':
      // A change sync brings the current state of anything changed (edits,
      // deletions, reactions); a sequence sync only new messages.
      return withEffects(
        {
          ...state,
          messages:
            frame.after_change !== undefined
              ? mergeChanges(state.messages, frame.messages, !state.hasMoreOlder)
              : mergeMessages(state.messages, frame.messages),
        },
        truncated(frame.messages),
      );
    case 'presence':
      return { ...state, online: frame.online };
    case 'typing': {
      if (frame.user_id === state.myId) return state;
      const rest = state.typing.filter((p) => p.user_id !== frame.user_id);
      const typing = frame.is_typing
        ? [...rest, { user_id: frame.user_id, display_name: frame.display_name, until: now + TYPING_SILENCE_MS }]
        : rest;
      return { ...state, typing };
    }
    case 'system':
      if (frame.event === 'user_joined' || frame.event === 'user_left') {
        return withEffects(onJoinOrLeave(state, frame, now), [{ type: 'ask_presence' }]);
      }
      if (frame.event === 'room_status_changed') return withEffects(state, [{ type: 'reload_room' }]);
      if (frame.event === 'member_added' || frame.event === 'member_removed') {
        return withEffects(state, [{ type: 'reload_members' }]);
      }
      return state;
    case 'error': {
      if (frame.client_msg_id) return state; // the outbox's own
      if (frame.code === 'RATE_LIMITED') {
        // An edit, deletion or reaction refused for the rate: all of them are
        // idempotent, so send every unconfirmed one again once the wait is over.
        const wait = Math.max(0.2, frame.retry_after ?? 1) * 1000;
        return withEffects(
          { ...state, notice: t('error.rateLimitedRetry', { seconds: Math.max(1, Math.ceil(wait / 1000)) }) },
          [{ type: 'retry_writes', afterMs: wait }],
        );
      }
      // Refused for good (which one is not said): do not send any of them again.
      return { ...state, writes: new Map(), notice: describeError(frame.code, frame.message, frame.retry_after) };
    }
    case 'ack':
      return frame.unresolved_mentions?.length ? { ...state, unresolved: frame.unresolved_mentions } : state;
    case 'readings':
      return { ...state, liveReadings: frame };
    case 'pong':
    case 'notification':
      return state;
    default: {
      // A new kind of frame fails to compile here until it is given its effect;
      // at run time one this client does not know changes nothing.
      const unknown: never = frame;
      void unknown;
      return state;
    }
  }
}

/** A join or departure becomes a quiet line after the newest message held. */
function onJoinOrLeave(state: RoomState, frame: SystemFrame, now: number): RoomState {
  const users: UserSummary[] =
    frame.users && frame.users.length
      ? frame.users
      : frame.user_id
        ? [{ user_id: frame.user_id, display_name: frame.display_name ?? frame.user_id }]
        : [];
  const at = frame.timestamp ? Date.parse(frame.timestamp) || now : now;
  const afterSeq = state.messages.reduce((m, x) => Math.max(m, x.sequence_number), 0);
  const kind = frame.event === 'user_joined' ? 'joined' : 'left';
  return { ...state, joins: addJoinEvent(state.joins, kind, users, at, afterSeq, state.myId) };
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
