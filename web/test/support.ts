/** Helpers shared by the connection-machine tests. */
import { step } from '../src/conn/machine';
import type { ConnEvent, ConnState, Effect, Env } from '../src/conn/machine';
import type { Message, SendMessageFrame, ServerFrame } from '../src/protocol';

/** Run events through the machine, collecting every effect. */
export function runMachine(
  state: ConnState,
  events: ConnEvent[],
  env: Env,
): { state: ConnState; effects: Effect[] } {
  const effects: Effect[] = [];
  for (const ev of events) {
    const r = step(state, ev, env);
    state = r.state;
    effects.push(...r.effects);
  }
  return { state, effects };
}

/** The frames the machine wrote to the socket. */
export const sent = (effects: Effect[]) =>
  effects.filter((x): x is Extract<Effect, { type: 'send_frame' }> => x.type === 'send_frame').map((x) => x.frame);

export const frame = (f: ServerFrame): ConnEvent => ({ type: 'frame', frame: f });

export const draft = (id: string, content = id): SendMessageFrame => ({
  type: 'message',
  client_msg_id: id,
  message_type: 'text',
  content,
  mentions: [],
});

export function msg(seq: number, extra: Partial<Message> = {}): Message {
  return {
    message_id: `m${seq}`,
    room_id: 'r1',
    sender_id: 'bob@factory.example',
    sender_display_name: 'Bob Lin',
    content: `hello ${seq}`,
    message_type: 'text',
    mentions: [],
    created_at: '2026-12-01T01:00:00Z',
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
  };
}
