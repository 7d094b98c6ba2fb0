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

import { MAX_CLIENT_FRAME_BYTES, PERMANENT_ERRORS, frameBytes } from '../protocol';
import type { AckFrame, ClientFrame, Message, SendMessageFrame, ServerFrame } from '../protocol';

export const HEARTBEAT_INTERVAL_MS = 30_000;
export const PONG_TIMEOUT_MS = 10_000;
export const BACKOFF_BASE_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
/** An outbox message unacknowledged this long means the socket is not really working. */
export const ACK_TIMEOUT_MS = 15_000;
/** A transient refusal (UNAVAILABLE, INTERNAL) is retried this often before the entry is marked failed. */
export const MAX_TRANSIENT_TRIES = 5;

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
  /** too big for one WebSocket frame: goes over the HTTP send */
  viaHttp: boolean;
  /** not before this instant (ms): RATE_LIMITED's retry_after, or a transient error's backoff */
  notBefore?: number;
  /** transient refusals so far */
  tries: number;
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
  /**
   * Every change (new message, edit, delete, reaction) numbered ≤ lastChange
   * has been applied, so `sync after_change=lastChange` returns exactly what a
   * reconnect missed, corrections included. 0 until the server shows numbers.
   */
  lastChange: number;
  changeAhead: number[];
  /** a `sync` is outstanding; sends wait until it completes */
  syncing: boolean;
  syncMode: 'seq' | 'change' | null;
  /** the browser said it lost the network (cleared when a socket opens or it is back) */
  offline: boolean;
  awaitingPong: boolean;
  outbox: OutboxEntry[];
  /** why the machine stopped for good, if it did (e.g. not a member) */
  fatal: string | null;
}

export type TimerName = 'heartbeat' | 'pong_timeout' | 'retry' | 'ack_timeout' | 'outbox';

/** What came back from an HTTP send. */
export type HttpOutcome =
  | { ok: true; ack: AckFrame }
  | { ok: false; code: string; message: string; retry_after?: number }
  /** the request never got an answer: the network is down */
  | { ok: false; network: true };

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
  | { type: 'history'; messages: Message[] }
  /** the browser's online/offline events */
  | { type: 'network'; online: boolean }
  | { type: 'http_result'; client_msg_id: string; outcome: HttpOutcome };

export type Effect =
  | { type: 'open_socket' }
  | { type: 'close_socket'; code: number; reason: string }
  | { type: 'send_frame'; frame: ClientFrame }
  /** a message too big for a 32 KB frame: POST /api/rooms/{id}/messages */
  | { type: 'http_send'; frame: SendMessageFrame }
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

export function initialState(opts: { room: boolean; lastSeq?: number; lastChange?: number }): ConnState {
  return {
    room: opts.room,
    status: 'idle',
    attempt: 0,
    retryAt: null,
    lastSeq: opts.lastSeq ?? 0,
    ahead: [],
    lastChange: opts.lastChange ?? 0,
    changeAhead: [],
    syncing: false,
    syncMode: null,
    offline: false,
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
function flushOutbox(state: ConnState, effects: Effect[], env: Env): ConnState {
  if (state.status !== 'open' || state.syncing) return state;
  if (state.outbox.some((e) => e.inflight)) return state;
  // Failed entries are skipped: a refused message never holds up the ones behind it.
  const next = state.outbox.find((e) => e.status === 'pending');
  if (!next) return state;
  const wait = (next.notBefore ?? 0) - env.now();
  if (wait > 0) {
    // Waiting out a rate limit: the ones behind wait too, so the order holds.
    effects.push({ type: 'set_timer', name: 'outbox', ms: wait });
    return state;
  }
  effects.push(
    next.viaHttp ? { type: 'http_send', frame: next.frame } : { type: 'send_frame', frame: next.frame },
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

/**
 * Resume by change number when the server numbers changes (it brings edits,
 * deletes and reactions made meanwhile); by sequence number otherwise (an
 * older server, or a room whose messages carry no number yet).
 */
function startSync(state: ConnState, effects: Effect[]): ConnState {
  if (state.lastChange > 0) {
    effects.push({ type: 'send_frame', frame: { type: 'sync', after_change: state.lastChange } });
    return { ...state, syncing: true, syncMode: 'change' };
  }
  effects.push({ type: 'send_frame', frame: { type: 'sync', after_seq: state.lastSeq } });
  return { ...state, syncing: true, syncMode: 'seq' };
}

/** Track a change number (contiguously, like sequence numbers). */
function noteChange(state: ConnState, change: number | undefined): ConnState {
  if (!state.room || typeof change !== 'number' || change <= state.lastChange) return state;
  const merged = absorbAhead(state.lastChange, [...state.changeAhead, change]);
  return { ...state, lastChange: merged.lastSeq, changeAhead: merged.ahead };
}

/** A send's refusal: permanent ones fail for good, transient ones wait and go again. */
function refuse(entry: OutboxEntry, code: string, message: string, retryAfter: number | undefined, env: Env): OutboxEntry {
  const base = { ...entry, inflight: false };
  if (code === 'RATE_LIMITED') {
    const secs = typeof retryAfter === 'number' && retryAfter > 0 ? retryAfter : 1;
    return { ...base, status: 'pending', notBefore: env.now() + secs * 1000, error: undefined };
  }
  const transient = code === 'UNAVAILABLE' || code === 'INTERNAL' || code === 'UNAUTHORIZED';
  if (transient && !PERMANENT_ERRORS.has(code) && entry.tries + 1 < MAX_TRANSIENT_TRIES) {
    const tries = entry.tries + 1;
    return { ...base, status: 'pending', tries, notBefore: env.now() + backoffDelay(tries, env.random) };
  }
  return { ...base, status: 'failed', error: { code, message } };
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
    syncMode: null,
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

/** An acknowledgement, over the socket or as the HTTP send's answer. */
function onAck(state: ConnState, frame: AckFrame, effects: Effect[]): ConnState {
  if (frame.client_msg_id !== null) state = settled(state, frame.client_msg_id, effects);
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
  return noteChange(noteSequence({ ...state, outbox }, frame.sequence_number, effects), frame.change_seq);
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

function onFrame(state: ConnState, frame: ServerFrame, effects: Effect[], env: Env): ConnState {
  switch (frame.type) {
    case 'pong': {
      effects.push(
        { type: 'clear_timer', name: 'pong_timeout' },
        { type: 'set_timer', name: 'heartbeat', ms: HEARTBEAT_INTERVAL_MS },
      );
      const next = { ...state, awaitingPong: false };
      // A change number still missing a heartbeat later (an edit or reaction
      // whose frame was lost) is fetched now rather than at the next reconnect.
      // Frames overtaking each other fill their gap within milliseconds, so
      // this almost never sends anything.
      if (next.room && next.changeAhead.length && !next.syncing) return startSync(next, effects);
      return next;
    }
    case 'ack':
      return flushOutbox(onAck(state, frame, effects), effects, env);
    case 'message': {
      let next = { ...state, outbox: pruneDelivered(state.outbox, [frame.message]) };
      next = noteChange(next, frame.change_seq ?? frame.message.change_seq);
      // (if this was the in-flight entry, whose ack is late, the next may go now)
      return flushOutbox(noteSequence(next, frame.message.sequence_number, effects), effects, env);
    }
    case 'sync': {
      let next: ConnState = { ...state, outbox: pruneDelivered(state.outbox, frame.messages) };
      // The server answered with everything after lastSeq (or lastChange, which
      // includes every newer message), up to a page, so its highest number is
      // the new floor even if some numbers never existed.
      const top = frame.messages.reduce((m, msg) => Math.max(m, msg.sequence_number), next.lastSeq);
      next = { ...next, ...absorbAhead(top, next.ahead) };
      const byChange = state.syncMode === 'change' || frame.after_change !== undefined;
      if (byChange) {
        // K is where to resume next; the server's word beats our own tracking
        // (it also steps over any number that never reached a room).
        const k = frame.change_seq ?? frame.messages.reduce((m, msg) => Math.max(m, msg.change_seq ?? 0), 0);
        const advanced = k > next.lastChange;
        if (advanced) {
          const merged = absorbAhead(k, next.changeAhead);
          next = { ...next, lastChange: merged.lastSeq, changeAhead: merged.ahead };
        }
        if (frame.has_more && advanced) return startSync(next, effects);
      } else {
        for (const m of frame.messages) next = noteChange(next, m.change_seq);
        if (frame.has_more && frame.messages.length) return startSync(next, effects);
      }
      // Resume complete: the connection has proven itself, so reset backoff
      // and send what was written meanwhile.
      next = { ...next, syncing: false, syncMode: null, attempt: 0 };
      if (next.ahead.length) return startSync(next, effects);
      return flushOutbox(next, effects, env);
    }
    case 'error': {
      if (!frame.client_msg_id) return state;
      const id = frame.client_msg_id;
      state = settled(state, id, effects);
      const outbox = state.outbox.map((e) =>
        e.client_msg_id === id ? refuse(e, String(frame.code), frame.message, frame.retry_after, env) : e,
      );
      return flushOutbox({ ...state, outbox }, effects, env);
    }
    case 'message_edited':
      return noteChange(state, frame.change_seq ?? frame.message.change_seq);
    case 'message_deleted':
    case 'reaction_updated':
    case 'system':
      return noteChange(state, frame.change_seq);
    case 'presence':
    case 'typing':
    case 'notification':
    case 'readings':
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
          { client_msg_id: event.frame.client_msg_id, frame: event.frame, status: 'failed', inflight: false, queuedAt: env.now(), viaHttp: false, tries: 0, error: { code: 'OFFLINE', message: state.fatal ?? 'not connected' } },
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
      let next: ConnState = { ...state, status: 'open', awaitingPong: false, offline: false };
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
      // Every frame of an open socket goes to the UI once, as it came, first:
      // what it does to the room is decided in one place, the room's reducer
      // (lib/roomState.ts). Here only what it does to the connection: numbers,
      // outbox, heartbeat.
      effects.push({ type: 'deliver', frame: event.frame });
      return done(onFrame(state, event.frame, effects, env));

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
        case 'outbox':
          return done(flushOutbox(state, effects, env));
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
        viaHttp: frameBytes(event.frame) > MAX_CLIENT_FRAME_BYTES,
        tries: 0,
      };
      return done(flushOutbox({ ...state, outbox: [...state.outbox, entry] }, effects, env));
    }

    case 'control':
      if (state.status === 'open') effects.push({ type: 'send_frame', frame: event.frame });
      return done(state);

    case 'retry_message': {
      const outbox = state.outbox.map((e) =>
        e.client_msg_id === event.client_msg_id && e.status === 'failed'
          ? { ...e, status: 'pending' as const, inflight: false, error: undefined, tries: 0, notBefore: undefined }
          : e,
      );
      return done(flushOutbox({ ...state, outbox }, effects, env));
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

    case 'network':
      if (event.online) {
        // Back: skip whatever wait the backoff had left.
        const next = { ...state, offline: false };
        if (next.status !== 'backoff') return done(next);
        effects.push({ type: 'clear_timer', name: 'retry' });
        return done(connect(next, effects));
      }
      // The browser knows before any heartbeat could: drop the socket now so
      // the page says it is not live within a moment, not 30 s later.
      if (state.status === 'open' || state.status === 'connecting') {
        effects.push({ type: 'close_socket', code: 4002, reason: 'offline' });
        return done({ ...scheduleReconnect(state, env, effects), offline: true });
      }
      return done({ ...state, offline: true });

    case 'http_result': {
      const entry = state.outbox.find((e) => e.client_msg_id === event.client_msg_id);
      if (!entry) return done(state);
      const o = event.outcome;
      if (o.ok) {
        // The HTTP answer stands for the ack frame the socket would have brought.
        effects.push({ type: 'deliver', frame: o.ack });
        return done(flushOutbox(onAck(state, o.ack, effects), effects, env));
      }
      if ('network' in o) {
        // A failed send is news about the network: start over at once.
        if (state.status === 'open' || state.status === 'connecting') {
          effects.push({ type: 'close_socket', code: 4003, reason: 'send failed' });
          return done(scheduleReconnect(state, env, effects));
        }
        return done({ ...state, outbox: state.outbox.map((e) => (e === entry ? { ...e, inflight: false } : e)) });
      }
      const settledState = settled(state, entry.client_msg_id, effects);
      const outbox = settledState.outbox.map((e) =>
        e === entry ? refuse(e, o.code, o.message, o.retry_after, env) : e,
      );
      return done(flushOutbox({ ...settledState, outbox }, effects, env));
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
