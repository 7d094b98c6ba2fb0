/**
 * Joins and departures as quiet system lines. They are not messages (they have
 * no number and are not kept in history), so they live beside the message list,
 * each anchored after the last message held when it happened; arrivals within
 * a minute with no message between fold into one line.
 */

import type { UserSummary } from '../protocol';

export const COALESCE_MS = 60_000;
const MAX_LINES = 50;

export interface JoinLine {
  id: string;
  kind: 'joined' | 'left';
  users: UserSummary[];
  firstAt: number;
  /** drawn after the message with this number (0: before every message) */
  afterSeq: number;
}

export function addJoinEvent(
  lines: readonly JoinLine[],
  kind: JoinLine['kind'],
  users: readonly UserSummary[],
  at: number,
  afterSeq: number,
  myId: string,
): JoinLine[] {
  const others = users.filter((u) => u.user_id !== myId);
  if (!others.length) return lines as JoinLine[];
  const last = [...lines].reverse().find((l) => l.kind === kind);
  if (last && last.afterSeq === afterSeq && at - last.firstAt < COALESCE_MS) {
    const known = new Set(last.users.map((u) => u.user_id));
    const added = others.filter((u) => !known.has(u.user_id));
    if (!added.length) return lines as JoinLine[];
    return lines.map((l) => (l === last ? { ...l, users: [...l.users, ...added] } : l));
  }
  const uniq = others.filter((u, i) => others.findIndex((x) => x.user_id === u.user_id) === i);
  const line: JoinLine = { id: `${kind}-${at}-${uniq[0]!.user_id}`, kind, users: uniq, firstAt: at, afterSeq };
  return [...lines, line].slice(-MAX_LINES);
}

/** The names part: "A", "A and B", "A, B and C", "A, B and 3 others" (the words come from the catalogue). */
export function joinNames(
  users: readonly UserSummary[],
  words: { and: (a: string, b: string) => string; others: (n: number) => string; sep: string },
): string {
  const names = users.map((u) => u.display_name || u.user_id);
  if (names.length <= 1) return names[0] ?? '';
  if (names.length <= 3) return words.and(names.slice(0, -1).join(words.sep), names[names.length - 1]!);
  return words.and(names.slice(0, 2).join(words.sep), words.others(names.length - 2));
}
