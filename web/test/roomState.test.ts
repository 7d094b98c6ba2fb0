/**
 * The room's state as a pure reducer (issue 14, point 5): what each server
 * frame does to the room, decided in one place, and the effects it asks for.
 */
import { describe, expect, it } from 'vitest';
import { initialState } from '../src/conn/machine';
import type { ConnState, Env } from '../src/conn/machine';
import { initialRoomState, resumePoint, roomReducer, TYPING_SILENCE_MS } from '../src/lib/roomState';
import type { RoomAction, RoomState } from '../src/lib/roomState';
import type { Room, ServerFrame } from '../src/protocol';
import { frame, msg, runMachine, sent } from './support';

const ME = 'alice@factory.example';
const BOB = 'bob@factory.example';
const NOW = 1_800_000_000_000;

const room: Room = {
  room_id: 'r1',
  title: 'Line 3 oven over temperature',
  status: 'active',
  severity: 'high',
  location: 'Line 3',
  lots: [],
  created_by: ME,
  created_at: '2026-12-01T01:00:00Z',
  updated_at: '2026-12-01T01:00:00Z',
  last_activity_at: '2026-12-01T01:00:00Z',
  last_seq: 3,
  my_role: 'OWNER',
  unread_count: 0,
  mention_count: 0,
  line_id: null,
  state: 'declared',
  commander_id: ME,
  machine: '',
  stop_reason: '',
  downtime_start: null,
  downtime_end: null,
};

/** Apply actions in order, like dispatch would. */
const reduce = (state: RoomState, ...actions: RoomAction[]): RoomState => actions.reduce(roomReducer, state);
const on = (f: ServerFrame, now = NOW): RoomAction => ({ type: 'frame', frame: f, now });

/** A room opened with messages 1..3 (Bob's), its first page effects done. */
function opened(extra: Partial<RoomState> = {}): RoomState {
  const s = reduce(initialRoomState(ME), {
    type: 'opened',
    room,
    members: [],
    messages: [msg(1), msg(2), msg(3)],
    hasMore: false,
  });
  return { ...s, ...extra, effects: [] };
}

const liveConn = (status: ConnState['status']): ConnState => ({ ...initialState({ room: true }), status });

describe('the resume point (survivor 6c)', () => {
  it('takes lastChange from the highest change_seq, not the highest sequence_number', () => {
    // Given a first page where an old message was edited last: message 5 carries
    // change 12, the newest message (9) only change 10
    const page = [msg(5, { change_seq: 12, edited_at: '2026-12-01T01:09:00Z' }), msg(9, { change_seq: 10 })];
    // When the resume point is read from it
    const point = resumePoint(page);
    // Then new messages resume after 9 and changes after 12
    expect(point).toEqual({ lastSeq: 9, lastChange: 12 });
  });

  it('makes the room connection ask for the changes after the newest change it holds', () => {
    // Given the same page, and a connection started from its resume point
    const page = [msg(5, { change_seq: 12 }), msg(9, { change_seq: 10 })];
    const env: Env = { random: () => 0.5, now: () => NOW };
    // When the socket opens
    const r = runMachine(initialState({ room: true, ...resumePoint(page) }), [{ type: 'start' }, { type: 'socket_open' }], env);
    // Then it resumes after change 12, so the edit numbered 11 is not fetched again
    // and nothing between 10 and 12 is skipped
    expect(sent(r.effects)).toEqual([{ type: 'sync', after_change: 12 }]);
  });

  it('holds no change number for a page without any (an older server), so resume falls back to after_seq', () => {
    expect(resumePoint([msg(4), msg(7)])).toEqual({ lastSeq: 7, lastChange: 0 });
    expect(resumePoint([])).toEqual({ lastSeq: 0, lastChange: 0 });
  });
});

describe('opening the room', () => {
  it('holds the first page in order and asks for the full copy of a truncated message', () => {
    // Given a page (oldest first) with message 2 sent without its content
    const truncated = msg(2, { content: null, content_truncated: true });
    // When the room opens with it
    const s = reduce(initialRoomState(ME), { type: 'opened', room, members: [], messages: [msg(3), msg(1), truncated], hasMore: true });
    // Then it is loaded, sorted, and the full copy of 2 is asked for
    expect(s.loaded).toBe(true);
    expect(s.hasMoreOlder).toBe(true);
    expect(s.messages.map((m) => m.sequence_number)).toEqual([1, 2, 3]);
    expect(s.effects).toEqual([{ type: 'fetch_full', messages: [truncated] }]);
    // And when it arrives it replaces the truncated copy
    const full = reduce(s, { type: 'full_copies', messages: [msg(2, { content: 'the whole paste' })] });
    expect(full.messages[1]!.content).toBe('the whole paste');
  });

  it('keeps a failed open as an error with its status', () => {
    const s = reduce(initialRoomState(ME), { type: 'open_failed', error: 'not found', status: 404 });
    expect(s).toMatchObject({ error: 'not found', errorStatus: 404, loaded: false });
  });
});

describe('a message frame', () => {
  it("from someone else is merged, ends their typing and asks the notifier to alert (a mention says so)", () => {
    // Given Bob is typing
    let s = reduce(opened(), on({ type: 'typing', user_id: BOB, display_name: 'Bob Lin', is_typing: true }));
    expect(s.typing.map((p) => p.user_id)).toEqual([BOB]);
    // When his message mentioning me arrives
    const m = msg(4, { mentions: [ME] });
    s = reduce(s, on({ type: 'message', message: m, change_seq: 0 }));
    // Then it is held, he no longer types, and an alert is asked for as a mention
    expect(s.messages.map((x) => x.sequence_number)).toEqual([1, 2, 3, 4]);
    expect(s.typing).toEqual([]);
    expect(s.effects).toEqual([{ type: 'alert', message: m, roomTitle: room.title, isMention: true }]);
  });

  it('of my own is merged without an alert, and a second copy does not duplicate it', () => {
    const mine = msg(4, { sender_id: ME });
    const s = reduce(opened(), on({ type: 'message', message: mine, change_seq: 0 }), on({ type: 'message', message: mine, change_seq: 0 }));
    expect(s.messages.map((x) => x.sequence_number)).toEqual([1, 2, 3, 4]);
    expect(s.effects).toEqual([]);
  });

  it('of type system reloads the room and its members, and alerts nobody', () => {
    const s = reduce(opened(), on({ type: 'message', message: msg(4, { message_type: 'system' }), change_seq: 0 }));
    expect(s.effects).toEqual([{ type: 'reload_room' }, { type: 'reload_members' }]);
  });

  it('that came without its content asks for the full copy', () => {
    const big = msg(4, { sender_id: ME, content: null, content_truncated: true });
    const s = reduce(opened(), on({ type: 'message', message: big, change_seq: 0 }));
    expect(s.effects).toEqual([{ type: 'fetch_full', messages: [big] }]);
  });
});

describe('edits, deletions and reactions', () => {
  it('apply to the held copy and confirm the writes they answer', () => {
    // Given my edit of 1, my deletion of 2 and my reaction on 3, all sent
    let s = reduce(
      opened(),
      { type: 'write_sent', frame: { type: 'edit_message', message_id: 'm1', content: '91 °C' }, now: NOW },
      { type: 'write_sent', frame: { type: 'delete_message', message_id: 'm2' }, now: NOW },
      { type: 'write_sent', frame: { type: 'add_reaction', message_id: 'm3', emoji: '👍' }, now: NOW },
    );
    expect(s.writes.size).toBe(3);
    // When the room brings all three back
    s = reduce(
      s,
      on({ type: 'message_edited', message: msg(1, { content: '91 °C', edited_at: '2026-12-01T01:02:00Z' }), change_seq: 7 }),
      on({ type: 'message_deleted', message_id: 'm2', room_id: 'r1', sequence_number: 2, deleted_at: '2026-12-01T01:03:00Z', change_seq: 8 }),
      on({ type: 'reaction_updated', message_id: 'm3', room_id: 'r1', reactions: [{ emoji: '👍', count: 1, user_ids: [ME] }], version: 1, change_seq: 9 }),
    );
    // Then each shows its new state and nothing is left to send again
    expect(s.messages[0]!.content).toBe('91 °C');
    expect(s.messages[1]).toMatchObject({ content: null, deleted_at: '2026-12-01T01:03:00Z' });
    expect(s.messages[2]!.reactions[0]!.emoji).toBe('👍');
    expect(s.writes.size).toBe(0);
  });

  it('RATE_LIMITED keeps the writes and asks to send them again after retry_after', () => {
    // Given an unconfirmed edit
    const s0 = reduce(opened(), { type: 'write_sent', frame: { type: 'edit_message', message_id: 'm1', content: 'x' }, now: NOW });
    // When the room refuses a frame for the rate, without saying which
    const s = reduce(s0, on({ type: 'error', code: 'RATE_LIMITED', message: 'slow down', client_msg_id: null, retry_after: 2 }));
    // Then the edit is kept, a retry in 2 s is asked for, and the person is told
    expect(s.writes.size).toBe(1);
    expect(s.effects).toEqual([{ type: 'retry_writes', afterMs: 2000 }]);
    expect(s.notice).toMatch(/2/);
  });

  it('another refusal forgets the writes (none is sent again) and says why', () => {
    const s0 = reduce(opened(), { type: 'write_sent', frame: { type: 'delete_message', message_id: 'm1' }, now: NOW });
    const s = reduce(s0, on({ type: 'error', code: 'OTHER', message: 'no such message', client_msg_id: null }));
    expect(s.writes.size).toBe(0);
    expect(s.effects).toEqual([]);
    expect(s.notice).toBe('no such message');
  });

  it("an outbox entry's own refusal leaves the room state alone", () => {
    const s0 = opened();
    expect(reduce(s0, on({ type: 'error', code: 'VALIDATION', message: 'empty', client_msg_id: 'c1' }))).toBe(s0);
  });
});

describe('sync answers', () => {
  it('a change sync replaces held copies but leaves out changes older than the loaded pages', () => {
    // Given the room holds 50 and 51, with older pages not loaded
    const s0 = opened({ messages: [msg(50), msg(51)], hasMoreOlder: true });
    // When a change sync brings an edit of 3 (not loaded), of 50, and a new 52
    const s = reduce(
      s0,
      on({
        type: 'sync',
        after_change: 4,
        change_seq: 9,
        has_more: false,
        messages: [msg(3, { change_seq: 7 }), msg(50, { content: 'edited', edited_at: '2026-12-01T01:05:00Z' }), msg(52)],
      }),
    );
    // Then 50 is edited and 52 added, 3 waits for its page
    expect(s.messages.map((m) => m.sequence_number)).toEqual([50, 51, 52]);
    expect(s.messages[0]!.content).toBe('edited');
  });

  it('a sequence sync merges new messages', () => {
    const s = reduce(opened(), on({ type: 'sync', messages: [msg(4), msg(3)], has_more: false }));
    expect(s.messages.map((m) => m.sequence_number)).toEqual([1, 2, 3, 4]);
  });
});

describe('presence, typing, joins', () => {
  it('a presence frame is who is online now', () => {
    const online = [{ user_id: BOB, display_name: 'Bob Lin' }];
    expect(reduce(opened(), on({ type: 'presence', online })).online).toEqual(online);
  });

  it('typing lasts TYPING_SILENCE_MS after the last frame, my own typing is not shown', () => {
    // Given Bob types at NOW, and my own typing echoes back
    const s = reduce(
      opened(),
      on({ type: 'typing', user_id: BOB, display_name: 'Bob Lin', is_typing: true }),
      on({ type: 'typing', user_id: ME, display_name: 'Alice', is_typing: true }),
    );
    // Then only Bob shows, until NOW + 3 s
    expect(s.typing).toEqual([{ user_id: BOB, display_name: 'Bob Lin', until: NOW + TYPING_SILENCE_MS }]);
    // And he is still shown just before that, gone after it
    expect(reduce(s, { type: 'typing_expired', now: NOW + TYPING_SILENCE_MS - 1 })).toBe(s);
    expect(reduce(s, { type: 'typing_expired', now: NOW + TYPING_SILENCE_MS + 1 }).typing).toEqual([]);
    // And "stopped typing" removes him at once
    expect(reduce(s, on({ type: 'typing', user_id: BOB, display_name: 'Bob Lin', is_typing: false })).typing).toEqual([]);
  });

  it('a join becomes a line after the newest message held, and asks who is online', () => {
    // When Bob joins (the server coalesces joins into users)
    const s = reduce(
      opened(),
      on({ type: 'system', event: 'user_joined', user_id: BOB, display_name: 'Bob Lin', users: [{ user_id: BOB, display_name: 'Bob Lin' }], timestamp: '2026-12-01T02:00:00Z' }),
    );
    // Then one "joined" line sits after message 3, and presence is asked for
    expect(s.joins).toHaveLength(1);
    expect(s.joins[0]).toMatchObject({ kind: 'joined', afterSeq: 3, firstAt: Date.parse('2026-12-01T02:00:00Z') });
    expect(s.joins[0]!.users.map((u) => u.user_id)).toEqual([BOB]);
    expect(s.effects).toEqual([{ type: 'ask_presence' }]);
  });

  it('a departure given by user_id alone is a "left" line; my own is not shown', () => {
    const s = reduce(
      opened(),
      // (without the timestamp the server always sends: the reducer falls back to now)
      on({ type: 'system', event: 'user_left', user_id: BOB, display_name: 'Bob Lin' } as ServerFrame),
      on({ type: 'system', event: 'user_left', user_id: ME, display_name: 'Alice' } as ServerFrame),
    );
    expect(s.joins.map((l) => [l.kind, l.users.map((u) => u.user_id)])).toEqual([['left', [BOB]]]);
    expect(s.joins[0]!.firstAt).toBe(NOW);
  });

  it('status and membership changes reload what they changed', () => {
    expect(reduce(opened(), on({ type: 'system', event: 'room_status_changed', user_id: ME, timestamp: '2026-12-01T02:00:00Z' })).effects).toEqual([{ type: 'reload_room' }]);
    expect(reduce(opened(), on({ type: 'system', event: 'member_added', user_id: ME, timestamp: '2026-12-01T02:00:00Z' })).effects).toEqual([{ type: 'reload_members' }]);
    expect(reduce(opened(), on({ type: 'system', event: 'member_removed', user_id: ME, timestamp: '2026-12-01T02:00:00Z' })).effects).toEqual([{ type: 'reload_members' }]);
  });
});

describe('the connection and the effects queue', () => {
  it('asks who is online each time the connection opens, not on every state change', () => {
    // Given a connecting room
    let s = reduce(opened(), { type: 'conn', conn: liveConn('connecting') });
    expect(s.effects).toEqual([]);
    // When it opens, then changes state while open, then reopens after a drop
    s = reduce(s, { type: 'conn', conn: liveConn('open') });
    s = reduce(s, { type: 'conn', conn: { ...liveConn('open'), lastSeq: 4 } });
    s = reduce(s, { type: 'conn', conn: liveConn('backoff') }, { type: 'conn', conn: liveConn('open') });
    // Then presence is asked for twice: once per opening
    expect(s.effects).toEqual([{ type: 'ask_presence' }, { type: 'ask_presence' }]);
  });

  it('drops only the effects carried out, keeping any added meanwhile', () => {
    const s = reduce(opened(), on({ type: 'system', event: 'room_status_changed', user_id: ME, timestamp: '2026-12-01T02:00:00Z' }), on({ type: 'system', event: 'member_added', user_id: ME, timestamp: '2026-12-01T02:00:00Z' }));
    expect(reduce(s, { type: 'effects_done', count: 1 }).effects).toEqual([{ type: 'reload_members' }]);
  });

  it('an unresolved mention in an ack is shown until dismissed', () => {
    const ack: ServerFrame = { type: 'ack', client_msg_id: 'c', message_id: 'm4', sequence_number: 4, created_at: 'now', change_seq: 4, unresolved_mentions: ['carol'] };
    const s = reduce(opened(), on(ack));
    expect(s.unresolved).toEqual(['carol']);
    expect(reduce(s, { type: 'clear_unresolved' }).unresolved).toEqual([]);
  });

  it('a frame of a kind this client does not know changes nothing', () => {
    // Given an open room, When a newer server sends a frame type not known here
    const s0 = opened();
    const s = reduce(s0, on({ type: 'pinned', message_id: 'm1' } as unknown as ServerFrame));
    // Then the state is the same object, with no effect asked for
    expect(s).toBe(s0);
  });

  it('never changes the state it is given', () => {
    // Given a room state frozen deep
    const s0 = opened({ typing: [{ user_id: BOB, display_name: 'Bob Lin', until: NOW }] });
    const before = JSON.stringify({ ...s0, writes: [...s0.writes] });
    // When every kind of frame passes through it
    reduce(
      s0,
      on({ type: 'message', message: msg(4), change_seq: 0 }),
      on({ type: 'message_edited', message: msg(1, { content: 'x', edited_at: '2026-12-01T01:02:00Z' }), change_seq: 0 }),
      on({ type: 'message_deleted', message_id: 'm2', room_id: 'r1', sequence_number: 2, deleted_at: '2026-12-01T01:03:00Z', change_seq: 0 }),
      on({ type: 'reaction_updated', message_id: 'm3', room_id: 'r1', reactions: [], version: 1, change_seq: 0 }),
      on({ type: 'sync', messages: [msg(5)], has_more: false }),
      on({ type: 'presence', online: [] }),
      on({ type: 'typing', user_id: BOB, display_name: 'Bob Lin', is_typing: false }),
      on({ type: 'system', event: 'user_joined', user_id: BOB, timestamp: '2026-12-01T02:00:00Z' }),
      on({ type: 'error', code: 'RATE_LIMITED', message: 'slow', client_msg_id: null }),
      on({ type: 'pong' }),
    );
    // Then s0 is as it was
    expect(JSON.stringify({ ...s0, writes: [...s0.writes] })).toBe(before);
  });
});

describe('one dispatch of server frames', () => {
  it('every frame of an open socket reaches the room reducer once, in order, whatever its type', () => {
    // Given an open room connection and a room state
    const env: Env = { random: () => 0.5, now: () => NOW };
    const open = runMachine(initialState({ room: true, lastSeq: 3, lastChange: 3 }), [{ type: 'start' }, { type: 'socket_open' }], env);
    const frames: ServerFrame[] = [
      { type: 'sync', after_change: 3, change_seq: 3, messages: [], has_more: false },
      { type: 'message', message: msg(4), change_seq: 4 },
      { type: 'typing', user_id: BOB, display_name: 'Bob Lin', is_typing: true },
      { type: 'message_edited', message: msg(1, { content: 'x', edited_at: '2026-12-01T01:02:00Z' }), change_seq: 5 },
      { type: 'presence', online: [{ user_id: BOB, display_name: 'Bob Lin' }] },
      { type: 'error', code: 'FORBIDDEN', message: 'no', client_msg_id: null },
      { type: 'pong' },
    ];
    // When the socket brings them
    const r = runMachine(open.state, frames.map((f) => frame(f)), env);
    const delivered = r.effects.flatMap((e) => (e.type === 'deliver' ? [e.frame] : []));
    // Then the machine hands each over exactly once, unchanged
    expect(delivered).toEqual(frames);
    // And the reducer alone turns them into the room's state
    const s = delivered.reduce((st, f) => roomReducer(st, on(f)), opened());
    expect(s.messages.map((m) => [m.sequence_number, m.content])).toEqual([
      [1, 'x'],
      [2, 'hello 2'],
      [3, 'hello 3'],
      [4, 'hello 4'],
    ]);
    expect(s.online).toHaveLength(1);
    expect(s.typing.map((p) => p.user_id)).toEqual([BOB]); // he typed again after his message
    expect(s.notice).toContain('no');
  });

  it("the HTTP send's answer is handed over once, as the ack the socket would have brought", () => {
    // Given an open room with a message too big for one frame, sent over HTTP
    const env: Env = { random: () => 0.5, now: () => NOW };
    const big = { type: 'message' as const, client_msg_id: 'big', message_type: 'text' as const, content: 'x'.repeat(40_000), mentions: [] };
    const open = runMachine(initialState({ room: true, lastSeq: 3 }), [
      { type: 'start' },
      { type: 'socket_open' },
      frame({ type: 'sync', messages: [], has_more: false }),
      { type: 'send', frame: big },
    ], env);
    // When the HTTP answer is the ack, listing a mention of someone outside the room
    const ack = { type: 'ack' as const, client_msg_id: 'big', message_id: 'm4', sequence_number: 4, created_at: 'now', change_seq: 4, unresolved_mentions: ['carol'] };
    const r = runMachine(open.state, [{ type: 'http_result', client_msg_id: 'big', outcome: { ok: true, ack } }], env);
    // Then the UI gets it once, and the reducer shows the unresolved mention
    const delivered = r.effects.flatMap((e) => (e.type === 'deliver' ? [e.frame] : []));
    expect(delivered).toEqual([ack]);
    expect(delivered.reduce((st, f) => roomReducer(st, on(f)), opened()).unresolved).toEqual(['carol']);
  });
});

describe('machine readings (issue 18)', () => {
  it('keeps the last readings frame for the charts and changes nothing else', () => {
    // Given a room's state
    const before = initialRoomState(ME);
    const readings: ServerFrame = {
      type: 'readings',
      line_id: 'l1',
      timestamp: '2026-12-06T01:00:01Z',
      points: [{ machine_id: 'OVEN-1', tag: 'zone1_temp', ts: '2026-12-06T01:00:00Z', value: 186.4, quality: 'good', origin: 'machine' }],
    };
    // When a readings frame arrives
    const after = roomReducer(before, { type: 'frame', frame: readings, now: NOW });
    // Then the charts' latest values are that frame, and no message, notice or effect appears
    expect(after.liveReadings).toEqual(readings);
    expect(after.messages).toEqual(before.messages);
    expect(after.notice).toBeNull();
    expect(after.effects).toEqual([]);
  });
});
