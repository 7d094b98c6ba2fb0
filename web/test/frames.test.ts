import { describe, expect, it } from 'vitest';
import { checkAgainst } from '../src/frames';
import { SERVER_FRAME_SCHEMA } from '../src/generated/protocol';
import { ProtocolError, parseServerFrame } from '../src/protocol';
import { msg } from './support';

const parse = (value: unknown) => parseServerFrame(JSON.stringify(value));
const refusal = (value: unknown): string => {
  try {
    parse(value);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as Error).message;
  }
  throw new Error('the frame was accepted');
};

// One frame of each type as the server builds it (tests/unit/test_frames.py checks the
// server's builders against the same schema).
const FRAMES = [
  { type: 'ack', client_msg_id: 'c1', message_id: 'm1', sequence_number: 1, created_at: 'x', change_seq: 1, unresolved_mentions: [] },
  { type: 'message', message: msg(1), change_seq: 1 },
  { type: 'message_edited', message: msg(1, { edited_at: '2026-12-06T01:00:00.000000Z' }), change_seq: 2 },
  { type: 'message_deleted', message_id: 'm1', room_id: 'r1', sequence_number: 1, deleted_at: 'x', change_seq: 3 },
  { type: 'reaction_updated', message_id: 'm1', room_id: 'r1', reactions: [{ emoji: '👍', count: 1, user_ids: ['a'] }], version: 1, change_seq: 4 },
  { type: 'system', event: 'room_status_changed', user_id: 'a', timestamp: 'x', room_id: 'r1', change_seq: 5 },
  { type: 'system', event: 'user_joined', user_id: 'a', timestamp: 'x', display_name: 'A', users: [{ user_id: 'a', display_name: 'A' }] },
  { type: 'presence', online: [{ user_id: 'a', display_name: 'A' }] },
  { type: 'typing', user_id: 'a', display_name: 'A', is_typing: true },
  { type: 'pong' },
  { type: 'sync', messages: [msg(1), { ...msg(2), content: null, content_truncated: true }], has_more: true },
  { type: 'sync', after_change: 3, change_seq: 9, messages: [], has_more: false },
  { type: 'notification', event: 'mention', room_id: 'r1', message: msg(1) },
  { type: 'error', code: 'RATE_LIMITED', message: 'slow', client_msg_id: null, retry_after: 2.5 },
];

describe('parseServerFrame checks each frame against what the server may send', () => {
  it('accepts every frame the server builds', () => {
    // Given one frame of each of the twelve types
    // When each is parsed
    // Then each comes back as it was sent
    expect(new Set(FRAMES.map((f) => f.type)).size).toBe(12);
    for (const frame of FRAMES) expect(parse(frame)).toEqual(frame);
  });

  it('accepts incident data content in the nested shape and system content', () => {
    // Given messages with an object content
    const readings = msg(1, { message_type: 'incident_data', content: { readings: { temperature: 85.2 }, units: { temperature: '°C' } } });
    const system = msg(2, { message_type: 'system', content: { event: 'member_added', user_id: 'a', role: 'EDITOR' } });
    // Then both pass
    expect(parse({ type: 'message', message: readings, change_seq: 1 }).type).toBe('message');
    expect(parse({ type: 'message', message: system, change_seq: 2 }).type).toBe('message');
  });

  it('refuses an unknown type, naming it', () => {
    expect(refusal({ type: 'mystery' })).toBe('unknown frame type mystery');
    expect(refusal({ hello: 1 })).toMatch(/not any of the allowed shapes|missing type/);
  });

  it('refuses a frame missing a key, naming the key', () => {
    // Given a message frame without its change number, and an ack without its number
    // Then each is refused with what is missing
    expect(refusal({ type: 'message', message: msg(1) })).toBe('frame: missing change_seq');
    const { sequence_number: _, ...ack } = FRAMES[0] as Record<string, unknown>;
    expect(refusal(ack)).toBe('frame: missing sequence_number');
  });

  it('refuses a wrong type deep inside, naming where', () => {
    // Given a sync whose second message has a string sequence number
    const bad = { type: 'sync', messages: [msg(1), { ...msg(2), sequence_number: '2' }], has_more: false };
    // Then the path to the field is in the refusal
    expect(refusal(bad)).toBe('messages[1].sequence_number: expected integer');
    // And a reaction count that is not a whole number, and a notification event the server never sends
    expect(refusal({ ...FRAMES[4], reactions: [{ emoji: '👍', count: 1.5, user_ids: [] }] })).toBe('reactions[0].count: expected integer');
    expect(refusal({ ...FRAMES[12], event: 'poke' })).toBe('event: not one of mention, message');
    // And an optional key sent as null (the server leaves it out instead)
    expect(refusal({ ...FRAMES[5], room_id: null })).toBe('room_id: expected string');
  });

  it('refuses a message whose content is none of the shapes', () => {
    const bad = msg(1, { content: 42 as never });
    expect(refusal({ type: 'message', message: bad, change_seq: 1 })).toBe('message.content: not any of the allowed shapes');
  });

  it('lets through a key it does not know (a newer server may add one)', () => {
    // Given a frame with an extra key
    const frame = { type: 'typing', user_id: 'a', display_name: 'A', is_typing: false, device: 'phone' };
    // Then it is accepted as it is
    expect(parse(frame)).toEqual(frame);
  });

  it('refuses what is not a JSON object', () => {
    expect(() => parseServerFrame('not json')).toThrow('frame is not JSON');
    expect(() => parseServerFrame('[1]')).toThrow('frame is not an object');
  });

  it('the checker answers null only for a fit', () => {
    expect(checkAgainst(SERVER_FRAME_SCHEMA, { type: 'pong' })).toBeNull();
    expect(checkAgainst(SERVER_FRAME_SCHEMA, { type: 'presence', online: [{ user_id: 1, display_name: 'A' }] })).toBe('online[0].user_id: expected string');
  });
});

describe('message content in every shape the server accepts', () => {
  it('passes incident data in the flat shape of the specification', () => {
    // Given a reading sent as the spec's flat object
    const flat = msg(3, { message_type: 'incident_data', content: { temperature: 85, pressure: 120, timestamp: '2026-12-06T01:00:00Z' } });
    // Then the frame carrying it is accepted
    expect(parse({ type: 'message', message: flat, change_seq: 3 }).type).toBe('message');
  });
});
