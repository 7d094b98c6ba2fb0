import { describe, expect, it } from 'vitest';
import { addJoinEvent, joinNames } from '../src/lib/joins';

const u = (name: string) => ({ user_id: `${name.toLowerCase()}@f.example`, display_name: name });
const words = { and: (a: string, b: string) => `${a} and ${b}`, others: (n: number) => `${n} others`, sep: ', ' };

describe('join lines', () => {
  it('folds arrivals within a minute into one line, without me', () => {
    // Given Alice joined at t=0
    let lines = addJoinEvent([], 'joined', [u('Alice')], 0, 5, 'me@f.example');
    // When Bob and I join 10 s later, and three more 50 s after the first
    lines = addJoinEvent(lines, 'joined', [u('Bob'), { user_id: 'me@f.example', display_name: 'Me' }], 10_000, 5, 'me@f.example');
    lines = addJoinEvent(lines, 'joined', [u('Carol'), u('Dan'), u('Eve')], 50_000, 5, 'me@f.example');
    // Then one line names them all, without me
    expect(lines).toHaveLength(1);
    expect(joinNames(lines[0]!.users, words)).toBe('Alice, Bob and 3 others');
  });

  it('starts a new line after a minute or after a message', () => {
    let lines = addJoinEvent([], 'joined', [u('Alice')], 0, 5, 'x');
    lines = addJoinEvent(lines, 'joined', [u('Bob')], 61_000, 5, 'x');
    lines = addJoinEvent(lines, 'joined', [u('Carol')], 62_000, 6, 'x');
    expect(lines.map((l) => l.users.map((p) => p.display_name))).toEqual([['Alice'], ['Bob'], ['Carol']]);
  });

  it('names two and three people in full', () => {
    expect(joinNames([u('Alice'), u('Bob')], words)).toBe('Alice and Bob');
    expect(joinNames([u('Alice'), u('Bob'), u('Carol')], words)).toBe('Alice, Bob and Carol');
  });
});
