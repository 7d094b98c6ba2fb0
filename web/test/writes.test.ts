import { describe, expect, it } from 'vitest';
import { confirmWrites, writeKey, writesToRetry } from '../src/lib/writes';
import type { PendingWrite, WriteFrame } from '../src/lib/writes';

const put = (m: Map<string, PendingWrite>, frame: WriteFrame, at: number) => m.set(writeKey(frame), { frame, at });

describe('writes retried after RATE_LIMITED', () => {
  it('keeps what has not come back and sends it again, oldest first', () => {
    // Given an edit, a reaction and a deletion sent, and the edit seen applied
    let pending = new Map<string, PendingWrite>();
    put(pending, { type: 'edit_message', message_id: 'm1', content: '91 °C' }, 1);
    put(pending, { type: 'add_reaction', message_id: 'm2', emoji: '👍' }, 2);
    put(pending, { type: 'delete_message', message_id: 'm3' }, 3);
    pending = confirmWrites(pending, {
      type: 'message_edited',
      message: { message_id: 'm1' } as never,
      change_seq: 0,
    });
    // Then the reaction and the deletion are retried, in order
    expect(writesToRetry(pending, 10).map((f) => f.type)).toEqual(['add_reaction', 'delete_message']);
  });

  it('keeps only the last toggle of one reaction, and forgets old writes', () => {
    const pending = new Map<string, PendingWrite>();
    put(pending, { type: 'add_reaction', message_id: 'm2', emoji: '👍' }, 1);
    put(pending, { type: 'remove_reaction', message_id: 'm2', emoji: '👍' }, 2);
    expect(writesToRetry(pending, 3)).toEqual([{ type: 'remove_reaction', message_id: 'm2', emoji: '👍' }]);
    expect(writesToRetry(pending, 120_000)).toEqual([]);
  });
});
