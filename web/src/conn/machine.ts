/**
 * The connection state machine: heartbeat, reconnect with backoff, resume by
 * sequence number, and the outbox. It is pure — `step(state, event, env)`
 * returns the next state and a list of effects (open a socket, send a frame,
 * set a timer, deliver a frame to the UI) for a driver to carry out — so every
 * rule here is unit-tested without a socket, a timer or a DOM.
 *
 * Two kinds of connection use it:
 * - a room connection (`room: true`) tracks `lastSeq`, resumes with `sync`,
 *   fills sequence gaps and owns the outbox;
 * - the user connection (`room: false`) only receives `notification` frames,
 *   so it needs just the heartbeat and reconnects.
 */

import type { ClientFrame, Message, SendMessageFrame, ServerFrame } from '../protocol';

export const HEARTBEAT_INTERVAL_MS = 30_000;
export const PONG_TIMEOUT_MS = 10_000;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
/** An outbox message unacknowledged this long means the socket is not really working. */
export const ACK_TIMEOUT_MS = 15_000;

export type ConnStatus = 'idle' | 'connecting' | 'open' | 'backoff' | 'stopped';

export type OutboxStatus = 'pending' | 'sent' | 'failed';

export interface OutboxEntry {
  client_msg_id: string;
  frame: SendMessageFrame;
  status: OutboxStatus;
  /** written to the current socket and not yet acknowledged */
  inflight: boolean;
  /** from the ack: the stored message's id and sequence number */
  message_id?: string;
  sequence_number?: number;
  error?: { code: string; message: string };
  queuedAt: number;
}

export interface ConnState {
  room: boolean;
  status: ConnStatus;
  /** consecutive failed attempts since the last proven-good connection */
  attempt: number;
  /** when the next attempt is due (ms since epoch), for the banner */
  retryAt: number | null;
  /**
   * Every message with a sequence number ≤ lastSeq has been received, so
   * `sync after_seq=lastSeq` asks for exactly what is missing.
   */
  lastSeq: number;
  /** sequence numbers seen above lastSeq + 1: the far side of a gap */
  ahead: number[];
  /** a `sync` is outstanding; sends wait until it completes */
  syncing: boolean;
  awaitingPong: boolean;
  outbox: OutboxEntry[];
  /** why the machine stopped for good, if it did (e.g. not a member) */
  fatal: string | null;
}

export type TimerName = 'heartbeat' | 'pong_timeout' | 'retry' | 'ack_timeout';

export type ConnEvent =
  | { type: 'start' }
  | { type: 'stop' }
  /** the connection cannot succeed (removed from the room, signed out) */
  | { type: 'fatal'; reason: string }
  | { type: 'socket_open' }
  | { type: 'socket_closed'; code: number; reason?: string }
  | { type: 'frame'; frame: ServerFrame }
  | { type: 'timer'; name: TimerName }
  | { type: 'send'; frame: SendMessageFrame }
  /** a frame that is only useful now (typing, edit, reaction): dropped while offline */
  | { type: 'control'; frame: ClientFrame }
  | { type: 'retry_message'; client_msg_id: string }
  | { type: 'discard_message'; client_msg_id: string }
  /** the browser came back online or to the foreground: skip the wait */
  | { type: 'wake' }
  /** messages arrived by HTTP history (newest page or an older page) */
  | { type: 'history'; messages: Message[] };

export type Effect =
  | { type: 'open_socket' }
  | { type: 'close_socket'; code: number; reason: string }
  | { type: 'send_frame'; frame: ClientFrame }
  | { type: 'set_timer'; name: TimerName; ms: number }
  | { type: 'clear_timer'; name: TimerName }
  | { type: 'deliver'; frame: ServerFrame };

export interface Env {
  /** uniform in [0, 1): the jitter source */
  random: () => number;
  now: () => number;
}

export interface StepResult {
  state: ConnState;
  effects: Effect[];
}

export function initialState(opts: { room: boolean; lastSeq?: number }): ConnState {
  return {
    room: opts.room,
    status: 'idle',
    attempt: 0,
    retryAt: null,
    lastSeq: opts.lastSeq ?? 0,
    ahead: [],
    syncing: false,
    awaitingPong: false,
    outbox: [],
    fatal: null,
  };
}

/**
 * Delay before reconnect attempt `attempt` (1-based): exponential from 500 ms,
 * capped at 30 s, with "equal jitter" — half fixed, half random — so a
 * room full of clients dropped by one outage does not reconnect in lockstep,
 * yet no client retries immediately in a tight loop.
 */
export function backoffDelay(attempt: number, random: () => number): number {
  const exp = BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1);
  const ceiling = Math.min(BACKOFF_CAP_MS, exp);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Advance lastSeq over any sequence numbers already seen beyond it. */
function absorbAhead(lastSeq: number, ahead: number[]): { lastSeq: number; ahead: number[] } {
  const rest = new Set(ahead.filter((s) => s > lastSeq));
  let seq = lastSeq;
  while (rest.has(seq + 1)) {
    seq += 1;
    rest.delete(seq);
  }
  return { lastSeq: seq, ahead: [...rest].sort((a, b) => a - b) };
}

/** Drop outbox entries whose message is now known to the UI (by client_msg_id). */
function pruneDelivered(outbox: OutboxEntry[], delivered: Message[]): OutboxEntry[] {
  if (!delivered.length) return outbox;
  const ids = new Set(delivered.map((m) => m.client_msg_id).filter(Boolean));
  return outbox.filter((e) => !ids.has(e.client_msg_id));
}

/**
 * Write the oldest pending outbox entry, one at a time: the next goes when the
 * server has acknowledged (or rejected) this one. The server may handle two
 * frames of one connection in parallel (a Lambda invocation each), so sending
 * a backlog all at once could store it out of order.
 */
function flushOutbox(state: ConnState, effects: Effect[]): ConnState {
  if (state.status !== 'open' || state.syncing) return state;
  if (state.outbox.some((e) => e.inflight)) return state;
  const next = state.outbox.find((e) => e.status === 'pending');
  if (!next) return state;
  effects.push(
    { type: 'send_frame', frame: next.frame },
    { type: 'set_timer', name: 'ack_timeout', ms: ACK_TIMEOUT_MS },
  );
  return {
    ...state,
    outbox: state.outbox.map((e) => (e === next ? { ...e, inflight: true } : e)),
  };
}

/** An outbox entry got its answer (ack or error): stop its timer, send the next. */
function settled(state: ConnState, clientMsgId: string, effects: Effect[]): ConnState {
  const wasInflight = state.outbox.some((e) => e.client_msg_id === clientMsgId && e.inflight);
  return wasInflight ? (effects.push({ type: 'clear_timer', name: 'ack_timeout' }), state) : state;
}

function startSync(state: ConnState, effects: Effect[]): ConnState {
  effects.push({ type: 'send_frame', frame: { type: 'sync', after_seq: state.lastSeq } });
  return { ...state, syncing: true };
}

/** The socket is gone (closed by the server, the network, or our heartbeat). */
function scheduleReconnect(state: ConnState, env: Env, effects: Effect[]): ConnState {
  const attempt = state.attempt + 1;
  const delay = backoffDelay(attempt, env.random);
  effects.push(
    { type: 'clear_timer', name: 'heartbeat' },
    { type: 'clear_timer', name: 'pong_timeout' },
    { type: 'clear_timer', name: 'ack_timeout' },
    { type: 'set_timer', name: 'retry', ms: delay },
  );
  return {
    ...state,
    status: 'backoff',
    attempt,
    retryAt: env.now() + delay,
    syncing: false,
    awaitingPong: false,
    // Nothing is in flight on a dead socket: unacknowledged entries go again
    // on the next connection with the same client_msg_id, which the server
    // de-duplicates, so a message is neither lost nor stored twice.
    outbox: state.outbox.map((e) => (e.inflight ? { ...e, inflight: false } : e)),
  };
}

function connect(state: ConnState, effects: Effect[]): ConnState {
  effects.push({ type: 'open_socket' });
  return { ...state, status: 'connecting', retryAt: null };
}

/** Track a message's sequence number; start a gap fill when one is skipped. */
function noteSequence(state: ConnState, seq: number, effects: Effect[]): ConnState {
  if (!state.room || seq <= state.lastSeq) return state;
  const merged = absorbAhead(state.lastSeq, [...state.ahead, seq]);
  let next: ConnState = { ...state, ...merged };
  if (next.ahead.length && !next.syncing && next.status === 'open') {
    // Something between lastSeq and this message never reached us (a frame
    // lost in fan-out, or sent while this socket was being set up).
    next = startSync(next, effects);
  }
  return next;
}

function onFrame(state: ConnState, frame: ServerFrame, effects: Effect[]): ConnState {
  switch (frame.type) {
    case 'pong': {
      effects.push(
        { type: 'clear_timer', name: 'pong_timeout' },
        { type: 'set_timer', name: 'heartbeat', ms: HEARTBEAT_INTERVAL_MS },
      );
      return { ...state, awaitingPong: false };
    }
    case 'ack': {
      effects.push({ type: 'deliver', frame });
      state = settled(state, frame.client_msg_id, effects);
      const outbox = state.outbox.map((e) =>
        e.client_msg_id === frame.client_msg_id
          ? {
              ...e,
              status: 'sent' as const,
              inflight: false,
              message_id: frame.message_id,
              sequence_number: frame.sequence_number,
              error: undefined,
            }
          : e,
      );
      const next = noteSequence({ ...state, outbox }, frame.sequence_number, effects);
      return flushOutbox(next, effects);
    }
    case 'message': {
      effects.push({ type: 'deliver', frame });
      const next = { ...state, outbox: pruneDelivered(state.outbox, [frame.message]) };
      // (if this was the in-flight entry, whose ack is late, the next may go now)
      return flushOutbox(noteSequence(next, frame.message.sequence_number, effects), effects);
    }
    case 'sync': {
      effects.push({ type: 'deliver', frame });
      let next: ConnState = { ...state, outbox: pruneDelivered(state.outbox, frame.messages) };
      // The server answered with everything after lastSeq (up to a page), so
      // its highest number is the new floor even if some numbers never existed.
      const top = frame.messages.reduce((m, msg) => Math.max(m, msg.sequence_number), next.lastSeq);
      next = { ...next, ...absorbAhead(top, next.ahead) };
      if (frame.has_more && frame.messages.length) {
        return startSync(next, effects);
      }
      // Resume complete: the connection has proven itself, so reset backoff
      // and send what was written meanwhile.
      next = { ...next, syncing: false, attempt: 0 };
      if (next.ahead.length) return startSync(next, effects);
      return flushOutbox(next, effects);
    }
    case 'error': {
      effects.push({ type: 'deliver', frame });
      if (!frame.client_msg_id) return state;
      state = settled(state, frame.client_msg_id, effects);
      const outbox = state.outbox.map((e) =>
        e.client_msg_id === frame.client_msg_id
          ? {
              ...e,
              status: 'failed' as const,
              inflight: false,
              error: { code: String(frame.code), message: frame.message },
            }
          : e,
      );
      return flushOutbox({ ...state, outbox }, effects);
    }
    case 'message_edited':
    case 'message_deleted':
    case 'reaction_updated':
    case 'system':
    case 'presence':
    case 'typing':
    case 'notification':
      effects.push({ type: 'deliver', frame });
      return state;
    default: {
      const never: never = frame;
      throw new Error(`unhandled frame ${(never as { type: string }).type}`);
    }
  }
}

export function step(state: ConnState, event: ConnEvent, env: Env): StepResult {
  const effects: Effect[] = [];
  const done = (next: ConnState): StepResult => ({ state: next, effects });

  if (state.status === 'stopped') {
    // Still accept local edits to the outbox so the UI stays truthful.
    if (event.type === 'send') {
      return done({
        ...state,
        outbox: [
          ...state.outbox,
          { client_msg_id: event.frame.client_msg_id, frame: event.frame, status: 'failed', inflight: false, queuedAt: env.now(), error: { code: 'OFFLINE', message: state.fatal ?? 'not connected' } },
        ],
      });
    }
    if (event.type === 'discard_message') {
      return done({ ...state, outbox: state.outbox.filter((e) => e.client_msg_id !== event.client_msg_id) });
    }
    return done(state);
  }

  switch (event.type) {
    case 'start':
      if (state.status !== 'idle') return done(state);
      return done(connect(state, effects));

    case 'stop':
    case 'fatal': {
      effects.push(
        { type: 'clear_timer', name: 'heartbeat' },
        { type: 'clear_timer', name: 'pong_timeout' },
        { type: 'clear_timer', name: 'retry' },
        { type: 'clear_timer', name: 'ack_timeout' },
      );
      if (state.status === 'open' || state.status === 'connecting') {
        effects.push({ type: 'close_socket', code: 1000, reason: event.type });
      }
      return done({
        ...state,
        status: 'stopped',
        retryAt: null,
        syncing: false,
        awaitingPong: false,
        fatal: event.type === 'fatal' ? event.reason : null,
      });
    }

    case 'socket_open': {
      if (state.status !== 'connecting') return done(state);
      effects.push({ type: 'set_timer', name: 'heartbeat', ms: HEARTBEAT_INTERVAL_MS });
      let next: ConnState = { ...state, status: 'open', awaitingPong: false };
      if (state.room) {
        // Resume: ask for everything after the last message we hold. Sends
        // wait for the answer so they land after the history they follow.
        next = startSync(next, effects);
      } else {
        next = { ...next, attempt: 0 };
      }
      return done(next);
    }

    case 'socket_closed':
      if (state.status !== 'open' && state.status !== 'connecting') return done(state);
      return done(scheduleReconnect(state, env, effects));

    case 'frame':
      if (state.status !== 'open') return done(state);
      return done(onFrame(state, event.frame, effects));

    case 'timer':
      switch (event.name) {
        case 'heartbeat':
          if (state.status !== 'open') return done(state);
          effects.push(
            { type: 'send_frame', frame: { type: 'ping' } },
            { type: 'set_timer', name: 'pong_timeout', ms: PONG_TIMEOUT_MS },
          );
          return done({ ...state, awaitingPong: true });
        case 'pong_timeout':
          if (state.status !== 'open' || !state.awaitingPong) return done(state);
          // A half-open socket (sleeping laptop, NAT timeout) never reports a
          // close; the missing pong is how we find out.
          effects.push({ type: 'close_socket', code: 4000, reason: 'heartbeat timeout' });
          return done(scheduleReconnect(state, env, effects));
        case 'retry':
          if (state.status !== 'backoff') return done(state);
          return done(connect(state, effects));
        case 'ack_timeout':
          if (state.status !== 'open' || !state.outbox.some((e) => e.inflight)) return done(state);
          // The socket accepts frames but nothing comes back for them: start
          // over; the resend after the resume is de-duplicated by the server.
          effects.push({ type: 'close_socket', code: 4001, reason: 'ack timeout' });
          return done(scheduleReconnect(state, env, effects));
        default:
          return done(state);
      }

    case 'wake':
      if (state.status !== 'backoff') return done(state);
      effects.push({ type: 'clear_timer', name: 'retry' });
      return done(connect(state, effects));

    case 'send': {
      if (!state.room) return done(state);
      const entry: OutboxEntry = {
        client_msg_id: event.frame.client_msg_id,
        frame: event.frame,
        status: 'pending',
        inflight: false,
        queuedAt: env.now(),
      };
      return done(flushOutbox({ ...state, outbox: [...state.outbox, entry] }, effects));
    }

    case 'control':
      if (state.status === 'open') effects.push({ type: 'send_frame', frame: event.frame });
      return done(state);

    case 'retry_message': {
      const outbox = state.outbox.map((e) =>
        e.client_msg_id === event.client_msg_id && e.status === 'failed'
          ? { ...e, status: 'pending' as const, inflight: false, error: undefined }
          : e,
      );
      return done(flushOutbox({ ...state, outbox }, effects));
    }

    case 'discard_message':
      return done({
        ...state,
        outbox: state.outbox.filter((e) => e.client_msg_id !== event.client_msg_id),
      });

    case 'history': {
      // History pages do not move lastSeq (an older page says nothing about
      // the newest), but they may contain messages whose ack was lost.
      return done({ ...state, outbox: pruneDelivered(state.outbox, event.messages) });
    }

    default: {
      const never: never = event;
      throw new Error(`unhandled event ${(never as { type: string }).type}`);
    }
  }
}

/** Outbox entries the UI should still draw itself (not yet in the message list). */
export function visibleOutbox(state: ConnState, known: ReadonlySet<string>): OutboxEntry[] {
  return state.outbox.filter((e) => !known.has(e.client_msg_id));
}
