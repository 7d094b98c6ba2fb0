/**
 * @mentions in the composer and in rendered messages. Pure functions: the
 * composer owns the caret, these only compute.
 */

export interface MentionCandidate {
  user_id: string;
  display_name: string;
}

/** The `@query` being typed at the caret, if any. */
export interface ActiveMention {
  /** index of the '@' in the text */
  start: number;
  /** the caret position the query ends at */
  end: number;
  /** what was typed after '@' (may be empty) */
  query: string;
}

// A query stops at whitespace: display names have spaces, but a space usually
// means the person stopped mentioning. Choosing from the list inserts the full
// name, spaces included.
const QUERY_CHARS = /^[^\s@]{0,40}$/;

/**
 * Find the mention being typed: an '@' at the start or after whitespace, with
 * no whitespace between it and the caret.
 */
export function findActiveMention(text: string, caret: number): ActiveMention | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf('@');
  if (at < 0) return null;
  if (at > 0 && !/\s/.test(before[at - 1]!)) return null; // e-mail-like "a@b", not a mention
  const query = before.slice(at + 1);
  if (!QUERY_CHARS.test(query)) return null;
  return { start: at, end: caret, query };
}

const fold = (s: string): string => s.toLocaleLowerCase();

/**
 * Members matching the query: display names whose any word starts with it come
 * first, then names or ids that merely contain it. Stable within each group.
 */
export function filterCandidates<T extends MentionCandidate>(
  candidates: readonly T[],
  query: string,
  limit = 8,
): T[] {
  const q = fold(query);
  if (!q) return candidates.slice(0, limit);
  const prefix: T[] = [];
  const contains: T[] = [];
  for (const c of candidates) {
    const name = fold(c.display_name);
    // Only the local part of the id: every id shares the company's domain.
    const id = fold(c.user_id.split('@')[0] ?? c.user_id);
    if (name.split(/\s+/).some((w) => w.startsWith(q)) || id.startsWith(q)) prefix.push(c);
    else if (name.includes(q) || id.includes(q)) contains.push(c);
  }
  return [...prefix, ...contains].slice(0, limit);
}

/**
 * Replace the active `@query` with `@Display Name ` and give the new text and
 * the caret position after the inserted mention.
 */
export function insertMention(
  text: string,
  active: ActiveMention,
  candidate: MentionCandidate,
): { text: string; caret: number } {
  const inserted = `@${candidate.display_name} `;
  const after = text.slice(active.end).replace(/^ /, ''); // avoid a double space
  const next = text.slice(0, active.start) + inserted + after;
  return { text: next, caret: active.start + inserted.length };
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Every index where `@name` occurs as a whole mention: not glued to a word
 * before it (so "a@b.com" is no mention) nor followed by more of a word.
 */
function mentionOffsets(text: string, name: string): number[] {
  if (!name) return [];
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])@${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, 'giu');
  const out: number[] = [];
  for (const m of text.matchAll(re)) out.push(m.index);
  return out;
}

/**
 * The user ids mentioned in a text, from the members' display names. Computing
 * this from the final text (rather than remembering picks) means a mention the
 * person deleted is not sent, and one typed out in full still counts.
 */
export function extractMentions(text: string, members: readonly MentionCandidate[]): string[] {
  // Longest names first so "@Alice Chen" is not also counted as "@Alice".
  const sorted = [...members].sort((a, b) => b.display_name.length - a.display_name.length);
  const taken: Array<{ start: number; end: number; user_id: string }> = [];
  for (const m of sorted) {
    for (const i of mentionOffsets(text, m.display_name)) {
      const end = i + m.display_name.length + 1;
      if (taken.some((t) => i < t.end && end > t.start)) continue;
      taken.push({ start: i, end, user_id: m.user_id });
    }
  }
  // An address typed in full ("@carol.wu@factory.example") names someone who
  // may not be in the room yet: it is sent, and the ack says they were not told.
  for (const m of text.matchAll(/(?<![\p{L}\p{N}_])@([^\s@]+@[^\s@]+\.[^\s@,;:!?()]+)/gu)) {
    const start = m.index;
    const end = start + m[0].length;
    if (taken.some((t) => start < t.end && end > t.start)) continue;
    taken.push({ start, end, user_id: m[1]!.toLowerCase().replace(/[.]+$/, '') });
  }
  // In the order they appear in the text, each once.
  taken.sort((a, b) => a.start - b.start);
  return [...new Set(taken.map((t) => t.user_id))];
}

export type TextSegment =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; text: string; user_id: string; isMe: boolean };

/**
 * Split a message into plain text and mention segments for rendering as text
 * nodes (never HTML). Only the ids the message actually mentions are marked,
 * so "@Bob" in a message that did not mention bob stays plain.
 */
export function segmentMentions(
  text: string,
  mentionIds: readonly string[],
  names: ReadonlyMap<string, string>,
  myId: string | null,
): TextSegment[] {
  const spans: Array<{ start: number; end: number; user_id: string }> = [];
  const people = mentionIds
    .map((id) => ({ user_id: id, display_name: names.get(id) ?? id }))
    .sort((a, b) => b.display_name.length - a.display_name.length);
  for (const p of people) {
    const variants = p.display_name === p.user_id ? [p.user_id] : [p.display_name, p.user_id];
    for (const name of variants) {
      for (const i of mentionOffsets(text, name)) {
        const end = i + name.length + 1;
        if (spans.some((s) => i < s.end && end > s.start)) continue;
        spans.push({ start: i, end, user_id: p.user_id });
      }
    }
  }
  spans.sort((a, b) => a.start - b.start);
  const out: TextSegment[] = [];
  let pos = 0;
  for (const s of spans) {
    if (s.start > pos) out.push({ kind: 'text', text: text.slice(pos, s.start) });
    out.push({
      kind: 'mention',
      text: text.slice(s.start, s.end),
      user_id: s.user_id,
      isMe: myId !== null && s.user_id === myId,
    });
    pos = s.end;
  }
  if (pos < text.length) out.push({ kind: 'text', text: text.slice(pos) });
  return out;
}
