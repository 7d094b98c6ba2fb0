import { describe, expect, it } from 'vitest';
import {
  ACK_TIMEOUT_MS,
  BACKOFF_CAP_MS,
  HEARTBEAT_INTERVAL_MS,
  PONG_TIMEOUT_MS,
  backoffDelay,
  initialState,
} from '../src/conn/machine';
import type { ConnEvent, ConnState, Env } from '../src/conn/machine';
import { draft, frame, msg, runMachine, sent } from './support';

const env = (random = 0.5, now = 1_000_000): Env => ({ random: () => random, now: () => now });
const run = (state: ConnState, events: ConnEvent[], e: Env = env()) => runMachine(state, events, e);





/** A room connection that is open and has finished its initial sync. */
function openRoom(lastSeq = 10): ConnState {
  return run(initialState({ room: true, lastSeq }), [
    { type: 'start' },
    { type: 'socket_open' },
    frame({ type: 'sync', messages: [], has_more: false }),
  ]).state;
}

describe('backoffDelay', () => {
  it('grows exponentially with jitter between half and all of the step', () => {
    expect(backoffDelay(1, () => 0)).toBe(250);
    expect(backoffDelay(1, () => 0.999999)).toBe(500);
    expect(backoffDelay(2, () => 0)).toBe(500);
    expect(backoffDelay(4, () => 0.5)).toBe(3000);
  });

  it('never exceeds 30 s, however many attempts', () => {
    for (let attempt = 1; attempt < 60; attempt++) {
      for (const r of [0, 0.3, 0.999999]) {
        const d = backoffDelay(attempt, () => r);
        expect(d).toBeLessThanOrEqual(BACKOFF_CAP_MS);
        expect(d).toBeGreaterThan(0);
      }
    }
    expect(backoffDelay(30, () => 0.999999)).toBe(BACKOFF_CAP_MS);
    expect(backoffDelay(30, () => 0)).toBe(BACKOFF_CAP_MS / 2);
  });

  it('spreads clients that fail together', () => {
    const delays = [0.1, 0.4, 0.7, 0.95].map((r) => backoffDelay(5, () => r));
    expect(new Set(delays).size).toBe(4);
  });
});

describe('connect, heartbeat and reconnect', () => {
  it('opens a socket on start and resumes with sync from lastSeq', () => {
    // Given a room connection holding messages up to 10
    const s0 = initialState({ room: true, lastSeq: 10 });
    // When it starts and the socket opens
    const { state, effects } = run(s0, [{ type: 'start' }, { type: 'socket_open' }]);
    // Then it asked for everything after 10 and set the heartbeat
    expect(effects[0]).toEqual({ type: 'open_socket' });
    expect(sent(effects)).toEqual([{ type: 'sync', after_seq: 10 }]);
    expect(effects).toContainEqual({ type: 'set_timer', name: 'heartbeat', ms: HEARTBEAT_INTERVAL_MS });
    expect(state.status).toBe('open');
    expect(state.syncing).toBe(true);
  });

  it('pings every 30 s and is content with a pong', () => {
    const s = openRoom();
    const a = run(s, [{ type: 'timer', name: 'heartbeat' }]);
    expect(sent(a.effects)).toEqual([{ type: 'ping' }]);
    expect(a.effects).toContainEqual({ type: 'set_timer', name: 'pong_timeout', ms: PONG_TIMEOUT_MS });
    const b = run(a.state, [frame({ type: 'pong' })]);
    expect(b.effects).toContainEqual({ type: 'clear_timer', name: 'pong_timeout' });
    expect(b.effects).toContainEqual({ type: 'set_timer', name: 'heartbeat', ms: HEARTBEAT_INTERVAL_MS });
    expect(b.state.awaitingPong).toBe(false);
    expect(b.state.status).toBe('open');
  });

  it('reconnects when no pong arrives within 10 s', () => {
    // Given a ping without an answer
    const s = run(openRoom(), [{ type: 'timer', name: 'heartbeat' }]).state;
    // When the pong timer fires
    const { state, effects } = run(s, [{ type: 'timer', name: 'pong_timeout' }], env(0));
    // Then the socket is closed and a retry is scheduled
    expect(effects[0]).toMatchObject({ type: 'close_socket' });
    expect(effects).toContainEqual({ type: 'set_timer', name: 'retry', ms: 250 });
    expect(state.status).toBe('backoff');
    // And the retry timer opens a new socket
    const again = run(state, [{ type: 'timer', name: 'retry' }]);
    expect(again.effects).toEqual([{ type: 'open_socket' }]);
    expect(again.state.status).toBe('connecting');
  });

  it('ignores a late pong timer once the pong came', () => {
    const s = run(openRoom(), [{ type: 'timer', name: 'heartbeat' }, frame({ type: 'pong' })]).state;
    const r = run(s, [{ type: 'timer', name: 'pong_timeout' }]);
    expect(r.effects).toEqual([]);
    expect(r.state.status).toBe('open');
  });

  it('backs off further on each failed attempt and resets once resumed', () => {
    let s = openRoom();
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = run(s, [{ type: 'socket_closed', code: 1006 }], env(0.999999));
      const t = r.effects.find((x) => x.type === 'set_timer' && x.name === 'retry') as { ms: number };
      delays.push(t.ms);
      s = run(r.state, [{ type: 'timer', name: 'retry' }]).state;
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    // When a connection finally opens and the resume completes
    s = run(s, [{ type: 'socket_open' }, frame({ type: 'sync', messages: [], has_more: false })]).state;
    // Then the next failure starts from the bottom again
    const r = run(s, [{ type: 'socket_closed', code: 1006 }], env(0.999999));
    expect(r.effects).toContainEqual({ type: 'set_timer', name: 'retry', ms: 500 });
  });

  it('retries at once when the browser comes back online', () => {
    const s = run(openRoom(), [{ type: 'socket_closed', code: 1006 }]).state;
    const r = run(s, [{ type: 'wake' }]);
    expect(r.effects).toEqual([{ type: 'clear_timer', name: 'retry' }, { type: 'open_socket' }]);
  });

  it('stops for good on stop or a fatal reason', () => {
    const r = run(openRoom(), [{ type: 'fatal', reason: 'not a member' }]);
    expect(r.state.status).toBe('stopped');
    expect(r.state.fatal).toBe('not a member');
    expect(r.effects).toContainEqual({ type: 'close_socket', code: 1000, reason: 'fatal' });
    const after = run(r.state, [{ type: 'socket_closed', code: 1006 }, { type: 'timer', name: 'retry' }]);
    expect(after.effects).toEqual([]);
  });

  it('a user connection needs no sync and resets backoff on open', () => {
    const r = run(initialState({ room: false }), [{ type: 'start' }, { type: 'socket_closed', code: 1006 }, { type: 'timer', name: 'retry' }, { type: 'socket_open' }]);
    expect(sent(r.effects)).toEqual([]);
    expect(r.state.attempt).toBe(0);
    expect(r.state.status).toBe('open');
  });
});

describe('resume by sequence number', () => {
  it('follows has_more until the server has nothing more', () => {
    const s = run(initialState({ room: true, lastSeq: 10 }), [{ type: 'start' }, { type: 'socket_open' }]).state;
    const a = run(s, [frame({ type: 'sync', messages: [msg(11), msg(12)], has_more: true })]);
    expect(sent(a.effects)).toEqual([{ type: 'sync', after_seq: 12 }]);
    const b = run(a.state, [frame({ type: 'sync', messages: [msg(13)], has_more: false })]);
    expect(sent(b.effects)).toEqual([]);
    expect(b.state.lastSeq).toBe(13);
    expect(b.state.syncing).toBe(false);
    // every sync answer is delivered to the UI
    expect(b.effects.filter((x) => x.type === 'deliver')).toHaveLength(1);
  });

  it('advances on consecutive live messages', () => {
    const r = run(openRoom(10), [frame({ type: 'message', message: msg(11), change_seq: 0 }), frame({ type: 'message', message: msg(12), change_seq: 0 })]);
    expect(r.state.lastSeq).toBe(12);
    expect(sent(r.effects)).toEqual([]);
  });

  it('fills a gap in sequence numbers from the server', () => {
    // Given messages up to 10 and then 13 arrives (11 and 12 were lost)
    const a = run(openRoom(10), [frame({ type: 'message', message: msg(13), change_seq: 0 })]);
    // Then the message is shown and the gap is requested
    expect(a.effects[0]).toEqual({ type: 'deliver', frame: { type: 'message', message: msg(13), change_seq: 0 } });
    expect(sent(a.effects)).toEqual([{ type: 'sync', after_seq: 10 }]);
    expect(a.state.lastSeq).toBe(10);
    // When 14 arrives during the fill, no second request is made
    const b = run(a.state, [frame({ type: 'message', message: msg(14), change_seq: 0 })]);
    expect(sent(b.effects)).toEqual([]);
    // And when the fill answers, lastSeq covers everything seen
    const c = run(b.state, [frame({ type: 'sync', messages: [msg(11), msg(12), msg(13)], has_more: false })]);
    expect(c.state.lastSeq).toBe(14);
    expect(c.state.ahead).toEqual([]);
  });

  it('treats duplicates as harmless', () => {
    const r = run(openRoom(10), [frame({ type: 'message', message: msg(9), change_seq: 0 }), frame({ type: 'message', message: msg(10), change_seq: 0 })]);
    expect(r.state.lastSeq).toBe(10);
    expect(sent(r.effects)).toEqual([]);
  });

  it('resumes from the last received message after a drop', () => {
    const s = run(openRoom(10), [frame({ type: 'message', message: msg(11), change_seq: 0 }), { type: 'socket_closed', code: 1006 }, { type: 'timer', name: 'retry' }]).state;
    const r = run(s, [{ type: 'socket_open' }]);
    expect(sent(r.effects)).toEqual([{ type: 'sync', after_seq: 11 }]);
  });
});

describe('outbox', () => {
  it('sends at once when connected and marks pending → sent on ack', () => {
    const a = run(openRoom(), [{ type: 'send', frame: draft('c1') }]);
    expect(sent(a.effects)).toEqual([draft('c1')]);
    expect(a.state.outbox[0]).toMatchObject({ status: 'pending', inflight: true });
    const b = run(a.state, [frame({ type: 'ack', client_msg_id: 'c1', message_id: 'm11', sequence_number: 11, created_at: 'x', change_seq: 0, unresolved_mentions: [] })]);
    expect(b.state.outbox[0]).toMatchObject({ status: 'sent', message_id: 'm11', sequence_number: 11 });
    // When the broadcast copy arrives, the entry is no longer needed
    const c = run(b.state, [frame({ type: 'message', message: msg(11, { client_msg_id: 'c1' }), change_seq: 0 })]);
    expect(c.state.outbox).toEqual([]);
    expect(c.state.lastSeq).toBe(11);
  });

  it('keeps messages written offline and sends them once after the resume', () => {
    // Given a dropped connection
    let s = run(openRoom(10), [{ type: 'socket_closed', code: 1006 }]).state;
    // When two messages are written offline
    const a = run(s, [{ type: 'send', frame: draft('c1') }, { type: 'send', frame: draft('c2') }]);
    // Then nothing is sent yet
    expect(sent(a.effects)).toEqual([]);
    expect(a.state.outbox.map((e) => e.status)).toEqual(['pending', 'pending']);
    // When the socket comes back, only the sync goes first
    s = run(a.state, [{ type: 'timer', name: 'retry' }]).state;
    const b = run(s, [{ type: 'socket_open' }]);
    expect(sent(b.effects)).toEqual([{ type: 'sync', after_seq: 10 }]);
    // And after the sync the outbox is sent in order, one after the other's ack
    const c = run(b.state, [frame({ type: 'sync', messages: [msg(11)], has_more: false })]);
    expect(sent(c.effects)).toEqual([draft('c1')]);
    const d = run(c.state, [frame({ type: 'ack', client_msg_id: 'c1', message_id: 'm12', sequence_number: 12, created_at: 'x', change_seq: 0, unresolved_mentions: [] })]);
    expect(sent(d.effects)).toEqual([draft('c2')]);
    const e = run(d.state, [
      frame({ type: 'ack', client_msg_id: 'c2', message_id: 'm13', sequence_number: 13, created_at: 'x', change_seq: 0, unresolved_mentions: [] }),
      frame({ type: 'message', message: msg(12, { client_msg_id: 'c1' }), change_seq: 0 }),
      frame({ type: 'message', message: msg(13, { client_msg_id: 'c2' }), change_seq: 0 }),
    ]);
    // And nothing is ever sent twice
    expect(sent(e.effects)).toEqual([]);
    expect(e.state.outbox).toEqual([]);
    expect(e.state.lastSeq).toBe(13);
  });

  it('keeps order while online too: the second waits for the first ack', () => {
    const a = run(openRoom(), [{ type: 'send', frame: draft('c1') }, { type: 'send', frame: draft('c2') }]);
    expect(sent(a.effects)).toEqual([draft('c1')]);
    // a rejection also lets the next one go
    const b = run(a.state, [frame({ type: 'error', code: 'VALIDATION', message: 'no', client_msg_id: 'c1' })]);
    expect(sent(b.effects)).toEqual([draft('c2')]);
  });

  it('reconnects when a sent message is never acknowledged', () => {
    const a = run(openRoom(), [{ type: 'send', frame: draft('c1') }]);
    expect(a.effects).toContainEqual({ type: 'set_timer', name: 'ack_timeout', ms: ACK_TIMEOUT_MS });
    const b = run(a.state, [{ type: 'timer', name: 'ack_timeout' }]);
    expect(b.effects[0]).toMatchObject({ type: 'close_socket', reason: 'ack timeout' });
    expect(b.state.status).toBe('backoff');
    expect(b.state.outbox[0]).toMatchObject({ status: 'pending', inflight: false });
  });

  it('re-sends an unacknowledged message after a drop with the same client_msg_id', () => {
    const a = run(openRoom(10), [{ type: 'send', frame: draft('c1') }, { type: 'socket_closed', code: 1006 }, { type: 'timer', name: 'retry' }, { type: 'socket_open' }]);
    const b = run(a.state, [frame({ type: 'sync', messages: [], has_more: false })]);
    expect(sent(b.effects)).toEqual([draft('c1')]);
  });

  it('does not re-send a message the resume shows was stored (lost ack)', () => {
    const a = run(openRoom(10), [{ type: 'send', frame: draft('c1') }, { type: 'socket_closed', code: 1006 }, { type: 'timer', name: 'retry' }, { type: 'socket_open' }]);
    const b = run(a.state, [frame({ type: 'sync', messages: [msg(11, { client_msg_id: 'c1', sender_id: 'me' })], has_more: false })]);
    expect(sent(b.effects)).toEqual([]);
    expect(b.state.outbox).toEqual([]);
  });

  it('does not re-send a message already acknowledged', () => {
    const a = run(openRoom(10), [
      { type: 'send', frame: draft('c1') },
      frame({ type: 'ack', client_msg_id: 'c1', message_id: 'm11', sequence_number: 11, created_at: 'x', change_seq: 0, unresolved_mentions: [] }),
      { type: 'socket_closed', code: 1006 },
      { type: 'timer', name: 'retry' },
      { type: 'socket_open' },
    ]);
    const b = run(a.state, [frame({ type: 'sync', messages: [], has_more: false })]);
    expect(sent(b.effects)).toEqual([]);
  });

  it('marks a rejected message failed, and retries it on request', () => {
    const a = run(openRoom(), [
      { type: 'send', frame: draft('c1') },
      frame({ type: 'error', code: 'VALIDATION', message: 'too long', client_msg_id: 'c1' }),
    ]);
    expect(a.state.outbox[0]).toMatchObject({ status: 'failed', error: { code: 'VALIDATION' } });
    const b = run(a.state, [{ type: 'retry_message', client_msg_id: 'c1' }]);
    expect(sent(b.effects)).toEqual([draft('c1')]);
    const c = run(b.state, [{ type: 'discard_message', client_msg_id: 'c1' }]);
    expect(c.state.outbox).toEqual([]);
  });

  it('holds new sends while a sync is outstanding', () => {
    const s = run(initialState({ room: true, lastSeq: 5 }), [{ type: 'start' }, { type: 'socket_open' }]).state;
    const a = run(s, [{ type: 'send', frame: draft('c1') }]);
    expect(sent(a.effects)).toEqual([]);
    const b = run(a.state, [frame({ type: 'sync', messages: [], has_more: false })]);
    expect(sent(b.effects)).toEqual([draft('c1')]);
  });

  it('drops control frames while offline instead of queueing them', () => {
    const s = run(openRoom(), [{ type: 'socket_closed', code: 1006 }]).state;
    const r = run(s, [{ type: 'control', frame: { type: 'typing', is_typing: true } }]);
    expect(r.effects).toEqual([]);
    const open = run(openRoom(), [{ type: 'control', frame: { type: 'typing', is_typing: true } }]);
    expect(sent(open.effects)).toEqual([{ type: 'typing', is_typing: true }]);
  });

  it('history pages clear outbox entries whose message they contain', () => {
    const a = run(openRoom(), [{ type: 'send', frame: draft('c1') }]);
    const b = run(a.state, [{ type: 'history', messages: [msg(3, { client_msg_id: 'c1' })] }]);
    expect(b.state.outbox).toEqual([]);
  });
});
