import { describe, expect, it } from 'vitest';
import { extractMentions, filterCandidates, findActiveMention, insertMention, segmentMentions } from '../src/lib/mentions';

const members = [
  { user_id: 'alice@factory.example', display_name: 'Alice Chen' },
  { user_id: 'bob@factory.example', display_name: 'Bob Lin' },
  { user_id: 'carol@factory.example', display_name: 'Carol Wu' },
  { user_id: 'al@factory.example', display_name: 'Al' },
];

describe('findActiveMention', () => {
  it('finds the query after @ at the caret', () => {
    expect(findActiveMention('hi @bo', 6)).toEqual({ start: 3, end: 6, query: 'bo' });
    expect(findActiveMention('@', 1)).toEqual({ start: 0, end: 1, query: '' });
  });

  it('ignores e-mail addresses and finished mentions', () => {
    expect(findActiveMention('mail bob@factory', 16)).toBeNull();
    expect(findActiveMention('hi @bob and', 11)).toBeNull();
    expect(findActiveMention('no at here', 5)).toBeNull();
  });

  it('uses only the text before the caret', () => {
    expect(findActiveMention('hi @ca there', 6)).toEqual({ start: 3, end: 6, query: 'ca' });
  });

  it('works on a new line', () => {
    expect(findActiveMention('line one\n@ca', 12)?.query).toBe('ca');
  });
});

describe('filterCandidates', () => {
  it('matches word prefixes first, then substrings, case-insensitively', () => {
    expect(filterCandidates(members, 'c').map((m) => m.display_name)).toEqual(['Alice Chen', 'Carol Wu']);
    expect(filterCandidates(members, 'LIN').map((m) => m.display_name)).toEqual(['Bob Lin']);
    expect(filterCandidates(members, 'ice').map((m) => m.display_name)).toEqual(['Alice Chen']);
  });

  it('lists everyone for an empty query, up to the limit', () => {
    expect(filterCandidates(members, '')).toHaveLength(4);
    expect(filterCandidates(members, '', 2)).toHaveLength(2);
  });

  it('matches the local part of user ids, not the shared domain', () => {
    const people = [...members, { user_id: 'dhuang@factory.example', display_name: 'Dave Huang' }];
    expect(filterCandidates(people, 'dhu').map((m) => m.user_id)).toEqual(['dhuang@factory.example']);
    expect(filterCandidates(people, 'factory')).toEqual([]);
  });
});

describe('insertMention', () => {
  it('replaces the query with @Display Name and a space', () => {
    const text = 'ping @bo please';
    const active = findActiveMention(text, 8)!;
    const out = insertMention(text, active, members[1]!);
    expect(out.text).toBe('ping @Bob Lin please');
    expect(out.caret).toBe('ping @Bob Lin '.length);
  });

  it('appends at the end of the text', () => {
    const out = insertMention('@', { start: 0, end: 1, query: '' }, members[0]!);
    expect(out).toEqual({ text: '@Alice Chen ', caret: 12 });
  });
});

describe('extractMentions', () => {
  it('finds every mentioned member once', () => {
    expect(extractMentions('@Bob Lin and @Carol Wu, then @Bob Lin again', members)).toEqual([
      'bob@factory.example',
      'carol@factory.example',
    ]);
  });

  it('prefers the longest name: "@Alice Chen" is not also "@Al"', () => {
    expect(extractMentions('hey @Alice Chen', members)).toEqual(['alice@factory.example']);
    expect(extractMentions('hey @Al', members)).toEqual(['al@factory.example']);
  });

  it('ignores partial words and e-mail addresses', () => {
    expect(extractMentions('@Bob Lindqvist', members)).toEqual([]);
    expect(extractMentions('write x@Bob Lin', members)).toEqual([]);
  });

  it('is case-insensitive', () => {
    expect(extractMentions('@bob lin', members)).toEqual(['bob@factory.example']);
  });

  it('handles names with regex characters', () => {
    const odd = [{ user_id: 'x@y.z', display_name: 'J. (QA)+' }];
    expect(extractMentions('cc @J. (QA)+ now', odd)).toEqual(['x@y.z']);
  });
});

describe('segmentMentions', () => {
  const names = new Map(members.map((m) => [m.user_id, m.display_name]));

  it('splits text and marks mentions of me', () => {
    const segs = segmentMentions('hi @Bob Lin and @Carol Wu!', ['bob@factory.example', 'carol@factory.example'], names, 'carol@factory.example');
    expect(segs).toEqual([
      { kind: 'text', text: 'hi ' },
      { kind: 'mention', text: '@Bob Lin', user_id: 'bob@factory.example', isMe: false },
      { kind: 'text', text: ' and ' },
      { kind: 'mention', text: '@Carol Wu', user_id: 'carol@factory.example', isMe: true },
      { kind: 'text', text: '!' },
    ]);
  });

  it('leaves @names alone that the message did not mention', () => {
    expect(segmentMentions('hi @Bob Lin', [], names, null)).toEqual([{ kind: 'text', text: 'hi @Bob Lin' }]);
  });

  it('keeps markup-looking text as plain text', () => {
    const text = '<img src=x onerror=alert(1)> @Bob Lin';
    const segs = segmentMentions(text, ['bob@factory.example'], names, null);
    expect(segs[0]).toEqual({ kind: 'text', text: '<img src=x onerror=alert(1)> ' });
  });
});

describe('extractMentions with a typed address', () => {
  it('sends a full address as a mention even for someone outside the room', () => {
    const members = [{ user_id: 'bob@f.example', display_name: 'Bob Lin' }];
    expect(extractMentions('@Bob Lin and @Carol.Wu@f.example, please look.', members)).toEqual([
      'bob@f.example',
      'carol.wu@f.example',
    ]);
    expect(extractMentions('mail carol@f.example', members)).toEqual([]);
  });
});
