/**
 * The message list of a room as plain data: merging pages and live frames,
 * applying edits, deletes and reactions, and grouping for display. Pure, so
 * the order and de-duplication rules are unit-tested.
 */

import type { Message, Reaction } from '../protocol';
import { taipeiDay } from './time';

/** Which of two copies of the same message is the more recent state. */
function newer(a: Message, b: Message): Message {
  if (a.deleted_at && !b.deleted_at) return a;
  if (b.deleted_at && !a.deleted_at) return b;
  const ae = a.edited_at ? Date.parse(a.edited_at) : 0;
  const be = b.edited_at ? Date.parse(b.edited_at) : 0;
  // Ties: the later arrival (b) wins, except that a copy whose content was
  // left out of its frame (content_truncated) never replaces a full one.
  const winner = ae > be ? a : ae < be ? b : b.content_truncated && !a.content_truncated ? a : b;
  // Reactions travel separately from edits: keep whichever copy's are newer.
  const other = winner === a ? b : a;
  if ((other.reactions_version ?? -1) > (winner.reactions_version ?? -1)) {
    return { ...winner, reactions: other.reactions, reactions_version: other.reactions_version };
  }
  return winner;
}

/** Merge messages into a list kept sorted by sequence number, one entry per id. */
export function mergeMessages(list: readonly Message[], incoming: readonly Message[]): Message[] {
  if (!incoming.length) return list as Message[];
  const byId = new Map(list.map((m) => [m.message_id, m]));
  for (const m of incoming) {
    const prev = byId.get(m.message_id);
    byId.set(m.message_id, prev ? newer(prev, m) : m);
  }
  return [...byId.values()].sort((a, b) => a.sequence_number - b.sequence_number);
}

/**
 * Merge what a `sync after_change` returned: each message's current state.
 * Held copies are replaced; a message not held is inserted only when it falls
 * inside the stretch of history on screen (a change to a message older than
 * the loaded pages shows when that page is loaded).
 */
export function mergeChanges(list: readonly Message[], incoming: readonly Message[], holdsOldest: boolean): Message[] {
  if (!incoming.length) return list as Message[];
  const held = new Set(list.map((m) => m.message_id));
  const floor = list.length && !holdsOldest ? list[0]!.sequence_number : -Infinity;
  return mergeMessages(
    list,
    incoming.filter((m) => held.has(m.message_id) || m.sequence_number > floor),
  );
}

/**
 * Full copies of the messages that arrived without their content (a frame
 * would have passed 128 KB), read one by one over HTTP by their number. The
 * caller merges them; `mergeMessages` lets a full copy replace a truncated one.
 */
export async function fetchFullCopies(
  list: readonly Message[],
  readOne: (seq: number) => Promise<Message | null>,
): Promise<Message[]> {
  const wanted = list.filter((m) => m.content_truncated && !m.deleted_at);
  const found = await Promise.all(wanted.map((m) => readOne(m.sequence_number).catch(() => null)));
  return found.filter((m): m is Message => m !== null && !m.content_truncated);
}

export function applyDeleted(list: readonly Message[], messageId: string, deletedAt: string): Message[] {
  return list.map((m) =>
    m.message_id === messageId ? { ...m, deleted_at: deletedAt, content: null, reactions: [] } : m,
  );
}

/**
 * Reaction updates can overtake each other (each is its own Lambda call), so
 * when the server numbers them, an older one than we hold is ignored.
 */
export function applyReactions(
  list: readonly Message[],
  messageId: string,
  reactions: Reaction[],
  version?: number,
): Message[] {
  return list.map((m) => {
    if (m.message_id !== messageId) return m;
    if (version !== undefined && m.reactions_version !== undefined && version <= m.reactions_version) return m;
    return { ...m, reactions, reactions_version: version ?? m.reactions_version };
  });
}

/** Toggle: whether clicking `emoji` should add or remove my reaction. */
export function reactionAction(message: Message, emoji: string, me: string): 'add_reaction' | 'remove_reaction' {
  const r = message.reactions.find((x) => x.emoji === emoji);
  return r && r.user_ids.includes(me) ? 'remove_reaction' : 'add_reaction';
}

const GROUP_WINDOW_MS = 5 * 60 * 1000;

export interface DisplayItem {
  message: Message;
  /** shows the sender and time header (false when it continues a group) */
  showHeader: boolean;
  /** first message of a new GMT+8 day: draw a day divider */
  dayDivider: string | null;
}

/**
 * Consecutive messages by the same sender within five minutes on the same
 * day form a group and show the sender once. System messages never group.
 */
export function groupMessages(list: readonly Message[]): DisplayItem[] {
  const out: DisplayItem[] = [];
  let prev: Message | null = null;
  for (const m of list) {
    const day = taipeiDay(m.created_at);
    const newDay = !prev || taipeiDay(prev.created_at) !== day;
    const continues =
      prev !== null &&
      !newDay &&
      prev.sender_id === m.sender_id &&
      prev.message_type !== 'system' &&
      m.message_type !== 'system' &&
      Date.parse(m.created_at) - Date.parse(prev.created_at) < GROUP_WINDOW_MS;
    out.push({ message: m, showHeader: !continues, dayDivider: newDay ? day : null });
    prev = m;
  }
  return out;
}

export function knownClientIds(list: readonly Message[]): Set<string> {
  const s = new Set<string>();
  for (const m of list) if (m.client_msg_id) s.add(m.client_msg_id);
  return s;
}
