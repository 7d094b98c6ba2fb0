import { describe, expect, it } from 'vitest';
import { lastReading, readingNameOf, readingSeries } from '../src/lib/readings';
import type { Message } from '../src/protocol';

const m = (seq: number, content: unknown, extra: Partial<Message> = {}): Message => ({
  message_id: `m${seq}`,
  room_id: 'r',
  sender_id: 's',
  sender_display_name: 'S',
  content: content as Message['content'],
  message_type: 'incident_data',
  mentions: [],
  created_at: `2026-12-01T01:0${seq}:00Z`,
  sequence_number: seq,
  reactions: [],
  client_msg_id: null,
  file_id: null,
  file_url: null,
  file: null,
  edited_at: null,
  deleted_at: null,
  change_seq: 0,
  reactions_version: 0,
  ...extra,
});

describe('readingSeries', () => {
  it('gives one series per reading with a point per message, in either shape', () => {
    // Given three readings messages, one in the specification's flat shape and one deleted
    const series = readingSeries([
      m(1, { readings: { temperature: 80, pressure: 3 }, units: { temperature: '°C' } }),
      m(2, { temperature: 85, pressure: 3.2 }),
      m(3, { readings: { temperature: 91 } }),
      m(4, { readings: { temperature: 999 } }, { deleted_at: '2026-12-01T02:00:00Z' }),
      m(5, 'not readings', { message_type: 'text' }),
    ]);
    // Then temperature has three points and its latest value, pressure two
    expect(series.map((s) => s.name)).toEqual(['temperature', 'pressure']);
    expect(series[0]!.points.map((p) => p[1])).toEqual([80, 85, 91]);
    expect(series[0]!.latest).toBe(91);
    expect(series[0]!.unit).toBe('°C');
    expect(series[1]!.points).toHaveLength(2);
  });

  it('keeps Chinese reading names', () => {
    expect(readingSeries([m(1, { readings: { 溫度: 70 } })])[0]!.name).toBe('溫度');
  });
});

describe('the readings form helpers', () => {
  const labels = { temperature: ['temperature', '溫度'], production_rate: ['production rate', '產量'] };

  it('sends a known label in either language as its reading name', () => {
    // Given names typed as labels, When read back, Then each is the reading's name
    expect(readingNameOf('溫度', labels)).toBe('temperature');
    expect(readingNameOf(' Production Rate ', labels)).toBe('production_rate');
    expect(readingNameOf('產量', labels)).toBe('production_rate');
    // and an unknown name is kept as typed, spaces as _
    expect(readingNameOf('冷卻水流量', labels)).toBe('冷卻水流量');
    expect(readingNameOf('coolant flow', labels)).toBe('coolant_flow');
  });

  it("finds the sender's last reading, else the room's", () => {
    // Given readings by two people, one deleted
    const messages = [
      m(1, { machine_id: 'CNC-12', line: 'L3', readings: { temperature: 80 } }, { sender_id: 'me' }),
      m(2, { machine_id: 'CNC-99', readings: { temperature: 81 } }, { sender_id: 'other' }),
      m(3, { machine_id: 'GONE', readings: { temperature: 1 } }, { sender_id: 'me', deleted_at: '2026-12-01T02:00:00Z' }),
    ];
    // Then mine is my latest undeleted one, and the room's is the latest of all
    expect(lastReading(messages, 'me')?.machine_id).toBe('CNC-12');
    expect(lastReading(messages)?.machine_id).toBe('CNC-99');
    expect(lastReading([], 'me')).toBeNull();
  });
});
