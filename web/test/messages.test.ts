import { describe, expect, it } from 'vitest';
import { applyDeleted, applyReactions, groupMessages, mergeMessages, reactionAction } from '../src/lib/messages';
import type { Message } from '../src/protocol';

function msg(seq: number, extra: Partial<Message> = {}): Message {
  return {
    message_id: `m${seq}`,
    room_id: 'r1',
    sender_id: 'bob@x',
    sender_display_name: 'Bob',
    content: `hello ${seq}`,
    message_type: 'text',
    mentions: [],
    created_at: `2025-03-10T01:0${seq % 10}:00Z`,
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

describe('mergeMessages', () => {
  it('sorts by sequence number and keeps one copy of each message', () => {
    const out = mergeMessages([msg(2), msg(3)], [msg(1), msg(3), msg(4)]);
    expect(out.map((m) => m.sequence_number)).toEqual([1, 2, 3, 4]);
  });

  it('keeps the edited version over a stale duplicate', () => {
    const edited = msg(2, { content: 'fixed', edited_at: '2025-03-10T01:05:00Z' });
    const out = mergeMessages([edited], [msg(2)]);
    expect(out[0]!.content).toBe('fixed');
  });

  it('keeps a deletion over a stale duplicate', () => {
    const deleted = applyDeleted([msg(2)], 'm2', '2025-03-10T02:00:00Z');
    expect(mergeMessages(deleted, [msg(2)])[0]!.content).toBeNull();
  });
});

describe('reactions', () => {
  it('applies server counts and toggles my own', () => {
    const list = applyReactions([msg(1)], 'm1', [{ emoji: '👍', count: 2, user_ids: ['me', 'bob@x'] }]);
    expect(list[0]!.reactions[0]!.count).toBe(2);
    expect(reactionAction(list[0]!, '👍', 'me')).toBe('remove_reaction');
    expect(reactionAction(list[0]!, '👍', 'carol')).toBe('add_reaction');
    expect(reactionAction(list[0]!, '🔥', 'me')).toBe('add_reaction');
  });
});

describe('reaction versions', () => {
  it('ignores a reaction update older than the one held', () => {
    const newer = applyReactions([msg(1, { reactions_version: 0 })], 'm1', [{ emoji: '👍', count: 2, user_ids: ['a', 'b'] }], 2);
    const stale = applyReactions(newer, 'm1', [{ emoji: '👍', count: 1, user_ids: ['a'] }], 1);
    expect(stale[0]!.reactions[0]!.count).toBe(2);
  });

  it('keeps newer reactions when an edit arrives with older ones', () => {
    const held = msg(1, { reactions: [{ emoji: '🔥', count: 1, user_ids: ['a'] }], reactions_version: 3 });
    const edit = msg(1, { content: 'fixed', edited_at: '2025-03-10T02:00:00Z', reactions: [], reactions_version: 2 });
    const out = mergeMessages([held], [edit])[0]!;
    expect(out.content).toBe('fixed');
    expect(out.reactions).toHaveLength(1);
  });
});

describe('groupMessages', () => {
  it('groups consecutive messages by one sender within five minutes', () => {
    const items = groupMessages([
      msg(1, { created_at: '2025-03-10T01:00:00Z' }),
      msg(2, { created_at: '2025-03-10T01:02:00Z' }),
      msg(3, { created_at: '2025-03-10T01:09:00Z' }),
      msg(4, { created_at: '2025-03-10T01:09:30Z', sender_id: 'carol@x' }),
      msg(5, { created_at: '2025-03-10T01:10:00Z', message_type: 'system', content: { event: 'x' } }),
      msg(6, { created_at: '2025-03-10T01:10:10Z', sender_id: 'carol@x' }),
    ]);
    expect(items.map((i) => i.showHeader)).toEqual([true, false, true, true, true, true]);
  });

  it('starts a new group and a day divider at Taipei midnight', () => {
    const items = groupMessages([
      msg(1, { created_at: '2025-03-10T15:59:00Z' }),
      msg(2, { created_at: '2025-03-10T16:01:00Z' }),
    ]);
    expect(items.map((i) => i.dayDivider)).toEqual(['2025-03-10', '2025-03-11']);
    expect(items[1]!.showHeader).toBe(true);
  });
});
