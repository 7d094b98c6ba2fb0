/**
 * Issue 8 on the client: resume by change number, HTTP send for big messages,
 * refusals that never loop, RATE_LIMITED waits, and the browser's offline event.
 */
import { describe, expect, it } from 'vitest';
import { ACK_TIMEOUT_MS, initialState } from '../src/conn/machine';
import type { ConnEvent, ConnState, Effect, Env } from '../src/conn/machine';
import { fetchFullCopies, mergeChanges, mergeMessages } from '../src/lib/messages';
import { MAX_CLIENT_FRAME_BYTES, frameBytes, incidentData } from '../src/protocol';
import { draft, frame, msg, runMachine, sent } from './support';

let clock = 1_000_000;
const env: Env = { random: () => 0.5, now: () => clock };
const run = (state: ConnState, events: ConnEvent[]) => runMachine(state, events, env);

const posted = (effects: Effect[]) =>
  effects.filter((x): x is Extract<Effect, { type: 'http_send' }> => x.type === 'http_send').map((x) => x.frame);


function openRoom(lastSeq = 10, lastChange = 0): ConnState {
  return run(initialState({ room: true, lastSeq, lastChange }), [
    { type: 'start' },
    { type: 'socket_open' },
    frame({ type: 'sync', messages: [], has_more: false, ...(lastChange ? { after_change: lastChange, change_seq: lastChange } : {}) }),
  ]).state;
}

describe('resume by change number', () => {
  it('asks for every change after the last one held, and repeats while has_more', () => {
    // Given a room held up to change 40
    const s0 = initialState({ room: true, lastSeq: 10, lastChange: 40 });
    // When the socket opens
    const a = run(s0, [{ type: 'start' }, { type: 'socket_open' }]);
    // Then it resumes by change number, not by sequence number
    expect(sent(a.effects)).toEqual([{ type: 'sync', after_change: 40 }]);
    // When the server answers a first page that says there is more
    const edited = msg(9, { content: '91 °C', edited_at: '2026-12-01T01:05:00Z', change_seq: 41 });
    const b = run(a.state, [
      frame({ type: 'sync', after_change: 40, messages: [edited, msg(11, { change_seq: 42 })], has_more: true, change_seq: 42 }),
    ]);
    // Then it asks again from the K the server gave
    expect(sent(b.effects)).toEqual([{ type: 'sync', after_change: 42 }]);
    expect(b.state.syncing).toBe(true);
    // And once nothing is left, it holds the server's K and is live
    const c = run(b.state, [frame({ type: 'sync', after_change: 42, messages: [], has_more: false, change_seq: 45 })]);
    expect(c.state.lastChange).toBe(45);
    expect(c.state.lastSeq).toBe(11);
    expect(c.state.syncing).toBe(false);
  });

  it('keeps the highest contiguous change number from live frames, so a lost one is fetched again', () => {
    // Given a live room at change 50
    let s = openRoom(10, 50);
    // When changes 51 and 53 arrive (52 was lost in fan-out)
    s = run(s, [
      frame({ type: 'message_edited', message: msg(3, { change_seq: 51 }), change_seq: 51 }),
      frame({ type: 'reaction_updated', message_id: 'm4', room_id: 'r1', reactions: [], version: 2, change_seq: 53 }),
    ]).state;
    // Then it holds 51 (53 waits for 52)
    expect(s.lastChange).toBe(51);
    // And after a reconnect it resumes from 51, so 52 comes back
    const r = run(s, [{ type: 'socket_closed', code: 1006 }, { type: 'timer', name: 'retry' }, { type: 'socket_open' }]);
    expect(sent(r.effects)).toEqual([{ type: 'sync', after_change: 51 }]);
  });

  it('falls back to after_seq while the server has shown no change numbers', () => {
    const r = run(initialState({ room: true, lastSeq: 7 }), [{ type: 'start' }, { type: 'socket_open' }]);
    expect(sent(r.effects)).toEqual([{ type: 'sync', after_seq: 7 }]);
  });

  it('does not loop when has_more comes without progress', () => {
    const a = run(initialState({ room: true, lastSeq: 1, lastChange: 5 }), [{ type: 'start' }, { type: 'socket_open' }]);
    const b = run(a.state, [frame({ type: 'sync', after_change: 5, messages: [], has_more: true, change_seq: 5 })]);
    expect(sent(b.effects)).toEqual([]);
    expect(b.state.syncing).toBe(false);
  });
});

describe('merging what a change sync returns', () => {
  it('replaces held copies with their current state: edit, delete placeholder, reactions', () => {
    // Given three held messages
    const held = [msg(1), msg(2), msg(3)];
    // When the sync brings an edit of 1, the deletion of 2 and a reaction on 3
    const out = mergeChanges(
      held,
      [
        msg(1, { content: 'reading: 91 °C', edited_at: '2026-12-01T01:02:00Z', change_seq: 7 }),
        msg(2, { content: null, deleted_at: '2026-12-01T01:03:00Z', change_seq: 8 }),
        msg(3, { reactions: [{ emoji: '👍', count: 1, user_ids: ['a'] }], reactions_version: 1, change_seq: 9 }),
      ],
      true,
    );
    // Then each shows its new state, in order, once
    expect(out.map((m) => m.sequence_number)).toEqual([1, 2, 3]);
    expect(out[0]!.content).toBe('reading: 91 °C');
    expect(out[1]!.deleted_at).toBeTruthy();
    expect(out[1]!.content).toBeNull();
    expect(out[2]!.reactions[0]!.emoji).toBe('👍');
  });

  it('inserts new messages by number but not changes to messages older than the loaded page', () => {
    const held = [msg(50), msg(51)];
    const out = mergeChanges(held, [msg(3, { change_seq: 9 }), msg(52, { change_seq: 10 })], false);
    expect(out.map((m) => m.sequence_number)).toEqual([50, 51, 52]);
    // (with the whole history held, an old one is inserted in place)
    expect(mergeChanges(held, [msg(3)], true).map((m) => m.sequence_number)).toEqual([3, 50, 51]);
  });
});

describe('a truncated copy (issue 10, item 23)', () => {
  it('is replaced by the full copy read over HTTP', () => {
    // Given a message that arrived without its content (its frame would pass 128 KB)
    const truncated = msg(5, { content: null, content_truncated: true });
    const list = mergeMessages([msg(4)], [truncated]);
    // When the full copy arrives from GET …/messages?after_seq=4&limit=1
    const full = msg(5, { content: 'x'.repeat(70_000) });
    const out = mergeMessages(list, [full]);
    // Then the list holds the full text, once
    expect(out).toHaveLength(2);
    expect(out[1]!.content).toBe('x'.repeat(70_000));
    expect(out[1]!.content_truncated).toBeFalsy();
  });

  it('is never put back over the full copy by a later truncated frame', () => {
    const full = msg(5, { content: 'the full text' });
    const out = mergeMessages([full], [msg(5, { content: null, content_truncated: true })]);
    expect(out[0]!.content).toBe('the full text');
  });
});

describe('messages too big for one frame', () => {
  it('go over the HTTP send, with the same client_msg_id, in outbox order', () => {
    // Given a paste whose frame passes 32 KB, and a short message behind it
    const big = draft('big', 'x'.repeat(40_000));
    expect(frameBytes(big)).toBeGreaterThan(MAX_CLIENT_FRAME_BYTES);
    const s = openRoom();
    // When both are sent
    const a = run(s, [{ type: 'send', frame: big }, { type: 'send', frame: draft('small') }]);
    // Then the big one is POSTed (never written to the socket), the small one waits
    expect(posted(a.effects)).toEqual([big]);
    expect(sent(a.effects)).toEqual([]);
    // When the HTTP answer is the ack
    const b = run(a.state, [
      {
        type: 'http_result',
        client_msg_id: 'big',
        outcome: { ok: true, ack: { type: 'ack', client_msg_id: 'big', message_id: 'mb', sequence_number: 11, created_at: 'now', change_seq: 3, unresolved_mentions: [] } },
      },
    ]);
    // Then it is sent and the small one goes over the socket
    expect(b.state.outbox.find((e) => e.client_msg_id === 'big')!.status).toBe('sent');
    expect(sent(b.effects)).toEqual([draft('small')]);
    expect(b.effects).toContainEqual({ type: 'deliver', frame: expect.objectContaining({ type: 'ack', client_msg_id: 'big' }) });
  });

  it('a 30,000-character ASCII message still fits one frame', () => {
    expect(frameBytes(draft('id', 'a'.repeat(30_000)))).toBeLessThanOrEqual(MAX_CLIENT_FRAME_BYTES);
  });
});

describe('refusals', () => {
  for (const code of ['VALIDATION', 'FORBIDDEN', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE', 'CONFLICT', 'EDIT_WINDOW_EXPIRED']) {
    it(`${code} fails the entry for good and lets the next one go`, () => {
      const a = run(openRoom(), [{ type: 'send', frame: draft('one') }, { type: 'send', frame: draft('two') }]);
      expect(sent(a.effects)).toEqual([draft('one')]);
      const b = run(a.state, [frame({ type: 'error', code, message: 'no', client_msg_id: 'one' })]);
      expect(b.state.outbox[0]).toMatchObject({ status: 'failed', error: { code } });
      expect(sent(b.effects)).toEqual([draft('two')]);
      // And a reconnect does not resend it
      const c = run(b.state, [
        frame({ type: 'ack', client_msg_id: 'two', message_id: 'm2', sequence_number: 11, created_at: 'now', change_seq: 0, unresolved_mentions: [] }),
        { type: 'socket_closed', code: 1006 },
        { type: 'timer', name: 'retry' },
        { type: 'socket_open' },
        frame({ type: 'sync', messages: [], has_more: false }),
      ]);
      expect(sent(c.effects).filter((f) => f.type === 'message')).toEqual([]);
    });
  }

  it('RATE_LIMITED waits retry_after and resends the same client_msg_id, keeping the order', () => {
    // Given two sends, the first refused for the rate
    const a = run(openRoom(), [{ type: 'send', frame: draft('one') }, { type: 'send', frame: draft('two') }]);
    const b = run(a.state, [frame({ type: 'error', code: 'RATE_LIMITED', message: 'slow', client_msg_id: 'one', retry_after: 2 })]);
    // Then nothing is sent now; a timer waits 2 s
    expect(sent(b.effects)).toEqual([]);
    expect(b.effects).toContainEqual({ type: 'set_timer', name: 'outbox', ms: 2000 });
    expect(b.state.outbox[0]!.status).toBe('pending');
    // When the time has passed, the same message goes again, first
    clock += 2000;
    const c = run(b.state, [{ type: 'timer', name: 'outbox' }]);
    expect(sent(c.effects)).toEqual([draft('one')]);
    expect(c.effects).toContainEqual({ type: 'set_timer', name: 'ack_timeout', ms: ACK_TIMEOUT_MS });
  });

  it('a transient refusal is retried a few times, then failed (never a loop)', () => {
    let s = run(openRoom(), [{ type: 'send', frame: draft('one') }]).state;
    let writes = 1;
    for (let i = 0; i < 10; i++) {
      const r = run(s, [frame({ type: 'error', code: 'UNAVAILABLE', message: 'busy', client_msg_id: 'one' })]);
      clock += 60_000;
      const t = run(r.state, [{ type: 'timer', name: 'outbox' }]);
      writes += sent(t.effects).length;
      s = t.state;
    }
    expect(s.outbox[0]!.status).toBe('failed');
    expect(writes).toBeLessThanOrEqual(5);
  });
});

describe('offline within seconds', () => {
  it('drops the socket at once on the browser offline event and reconnects when back', () => {
    const s = openRoom();
    const off = run(s, [{ type: 'network', online: false }]);
    expect(off.effects[0]).toMatchObject({ type: 'close_socket' });
    expect(off.state.status).toBe('backoff');
    expect(off.state.offline).toBe(true);
    const on = run(off.state, [{ type: 'network', online: true }]);
    expect(on.effects).toContainEqual({ type: 'open_socket' });
    expect(on.state.offline).toBe(false);
  });

  it('a failed HTTP send starts over at once', () => {
    const a = run(openRoom(), [{ type: 'send', frame: draft('big', 'y'.repeat(40_000)) }]);
    const b = run(a.state, [{ type: 'http_result', client_msg_id: 'big', outcome: { ok: false, network: true } }]);
    expect(b.effects[0]).toMatchObject({ type: 'close_socket' });
    expect(b.state.status).toBe('backoff');
    expect(b.state.outbox[0]).toMatchObject({ status: 'pending', inflight: false });
  });
});

describe('incident data in either shape', () => {
  it('reads the specification flat shape and the nested one', () => {
    expect(incidentData({ temperature: 85, pressure: 120, production_rate: 450, timestamp: 'x' } as never)!.readings).toEqual({
      temperature: 85,
      pressure: 120,
      production_rate: 450,
    });
    expect(incidentData({ readings: { 溫度: 91 }, units: { 溫度: '°C' } })!.readings).toEqual({ 溫度: 91 });
    expect(incidentData('text')).toBeNull();
    // the flat shape may carry its units, machine and line beside the readings
    const flat = incidentData({ machine_id: 'CNC-07', temperature: 85, units: { temperature: '°C' } } as never)!;
    expect(flat.units).toEqual({ temperature: '°C' });
    expect(flat.machine_id).toBe('CNC-07');
  });
});

describe('fetchFullCopies (issue 10, item 23)', () => {
  it('reads each truncated message by its number and the merge replaces the held copy', async () => {
    // Given a list holding one truncated message among full ones
    const list = [msg(4), msg(5, { content: null, content_truncated: true }), msg(6)];
    const asked: number[] = [];
    // When the client fills it from HTTP
    const full = await fetchFullCopies(list, async (seq) => {
      asked.push(seq);
      return msg(seq, { content: 'the whole 70 KB paste' });
    });
    const out = mergeMessages(list, full);
    // Then only number 5 was read, and the list now shows its full text
    expect(asked).toEqual([5]);
    expect(out.map((m) => m.content)).toEqual(['hello 4', 'the whole 70 KB paste', 'hello 6']);
  });
});

describe('a lost change frame on a live connection', () => {
  it('is fetched at the next heartbeat, not only at the next reconnect', () => {
    // Given a live room at change 50 where 52 arrived but 51 never did
    let s = openRoom(10, 50);
    s = run(s, [frame({ type: 'reaction_updated', message_id: 'm4', room_id: 'r1', reactions: [], version: 2, change_seq: 52 })]).state;
    expect(s.lastChange).toBe(50);
    // When the heartbeat's pong comes back
    const r = run(s, [{ type: 'timer', name: 'heartbeat' }, frame({ type: 'pong' })]);
    // Then it asks for the changes after 50
    expect(sent(r.effects)).toContainEqual({ type: 'sync', after_change: 50 });
    // And with nothing missing, a pong sends no sync
    const quiet = run(openRoom(10, 50), [{ type: 'timer', name: 'heartbeat' }, frame({ type: 'pong' })]);
    expect(sent(quiet.effects)).toEqual([{ type: 'ping' }]);
  });
});
