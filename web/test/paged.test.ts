import { describe, expect, it } from 'vitest';
import { describeSystem } from '../src/components/MessageItem';
import { setLocale } from '../src/i18n';
import type { Message } from '../src/protocol';

// A page of issue 19's on-call escalation, as the server numbers it in the room.
const page: Message = {
  message_id: 'm1',
  room_id: 'r1',
  sender_id: 'reporter@factory.example',
  sender_display_name: 'Reporter',
  content: { event: 'paged', text: 'Paged first@factory.example (on call, step 2)', user_id: 'first@factory.example', step: 1 } as Message['content'],
  message_type: 'system',
  mentions: [],
  created_at: '2026-12-06T01:00:00Z',
  sequence_number: 3,
  reactions: [],
} as unknown as Message;

describe('a page on the room timeline', () => {
  it('names the person paged and the step, in the reader language', () => {
    // Given the people the room knows
    const names = new Map([['first@factory.example', 'Mei-Ling']]);
    // When it is described in English and in Traditional Chinese
    setLocale('en', false);
    const en = describeSystem(page, names);
    setLocale('zh-TW', false);
    const zh = describeSystem(page, names);
    setLocale('en', false);
    // Then both name her by display name with the 1-based step
    expect(en).toBe('Paged Mei-Ling (on call, step 2)');
    expect(zh).toBe('已呼叫 Mei-Ling（值班，第 2 順位）');
  });
});
