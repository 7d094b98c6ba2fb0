/**
 * Edits, deletions and reactions sent but not yet seen coming back from the
 * room. Each of them is idempotent on the server (the same edit, a second
 * delete, a reaction one already has), so when the server answers RATE_LIMITED
 * (which does not say which frame it refused) every unconfirmed one can simply
 * be sent again after `retry_after`, and nothing the person did is lost.
 */

import type { ClientFrame, ServerFrame } from '../protocol';

export type WriteFrame = Extract<
  ClientFrame,
  { type: 'edit_message' } | { type: 'delete_message' } | { type: 'add_reaction' } | { type: 'remove_reaction' }
>;

/** How long an unconfirmed write is worth retrying. */
export const WRITE_MEMORY_MS = 60_000;

export function isWrite(frame: ClientFrame): frame is WriteFrame {
  return (
    frame.type === 'edit_message' ||
    frame.type === 'delete_message' ||
    frame.type === 'add_reaction' ||
    frame.type === 'remove_reaction'
  );
}

export interface PendingWrite {
  frame: WriteFrame;
  at: number;
}

/** A newer write to the same thing replaces the older (the last edit, the last toggle). */
export function writeKey(frame: WriteFrame): string {
  switch (frame.type) {
    case 'edit_message':
    case 'delete_message':
      return `${frame.type}:${frame.message_id}`;
    default:
      return `reaction:${frame.message_id}:${frame.emoji}`;
  }
}

/** Drop what a room frame shows was applied. */
export function confirmWrites(pending: ReadonlyMap<string, PendingWrite>, frame: ServerFrame): Map<string, PendingWrite> {
  const out = new Map(pending);
  const drop = (prefix: string): void => {
    for (const k of out.keys()) if (k.startsWith(prefix)) out.delete(k);
  };
  if (frame.type === 'message_edited') drop(`edit_message:${frame.message.message_id}`);
  else if (frame.type === 'message_deleted') {
    drop(`delete_message:${frame.message_id}`);
    drop(`edit_message:${frame.message_id}`);
    drop(`reaction:${frame.message_id}:`);
  } else if (frame.type === 'reaction_updated') drop(`reaction:${frame.message_id}:`);
  return out;
}

/** The writes to send again now, oldest first, forgetting ones too old to matter. */
export function writesToRetry(pending: ReadonlyMap<string, PendingWrite>, now: number): WriteFrame[] {
  return [...pending.values()]
    .filter((p) => now - p.at < WRITE_MEMORY_MS)
    .sort((a, b) => a.at - b.at)
    .map((p) => p.frame);
}
