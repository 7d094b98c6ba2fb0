/**
 * The wire contract between this client and the backend (WebSocket frames and
 * the JSON shapes of the HTTP API). The types of everything the server sends, and
 * of the HTTP request bodies, are generated from the server's pydantic models
 * (src/generated/protocol.ts, `make types`) and re-exported here under the names
 * the client uses. `parseServerFrame` is the single place that turns raw text into
 * a frame, checked against the schema of the same models (src/frames.ts).
 */

import type { IncidentData, Message, MessageType, RoomStatus, Severity, SystemContent } from './generated/protocol';
import { SERVER_FRAME_SCHEMA, type ServerFrame } from './generated/protocol';
import { checkAgainst } from './frames';

export type {
  AckFields,
  AckFrame,
  ChangesPage,
  ErrorBody,
  ErrorFrame,
  FileInfo,
  FileLink,
  FileList,
  HistoryPage,
  IncidentState,
  IncidentData,
  Limits,
  Member,
  MemberList,
  Message,
  MessageDeletedFrame,
  MessageEditedFrame,
  MessageFrame,
  MessageList,
  MessageType,
  NotificationFrame,
  PongFrame,
  PresenceFrame,
  Reaction,
  ReactionUpdatedFrame,
  ReadingPointWire as MachineReading,
  ReadingsFrame,
  Role,
  Room,
  RoomDraft,
  RoomList,
  RoomPatch,
  RoomStatus,
  SearchAnswer,
  SearchHit,
  ServerFrame,
  Severity,
  SyncFrame,
  SystemContent,
  SystemFrame,
  TypingFrame,
  UploadRequest,
  UploadTicket,
  User as Me,
  UserList,
  UserSummary,
} from './generated/protocol';
/** Limits shared with the server by name (warroom.bounds): see docs/protocol.md "Limits". */
export { MAX_CLIENT_FRAME_BYTES, MAX_CONTENT_BYTES, MAX_MESSAGE_BYTES } from './generated/protocol';

export const ROOM_STATUSES: readonly RoomStatus[] = ['active', 'resolved', 'archived'];
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export type ErrorCode =
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'VALIDATION'
  | 'EDIT_WINDOW_EXPIRED'
  | 'PAYLOAD_TOO_LARGE'
  | 'CONFLICT'
  | 'RATE_LIMITED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

/** Refusals that will not change by sending the same thing again (docs/protocol.md). */
export const PERMANENT_ERRORS: ReadonlySet<string> = new Set([
  'VALIDATION',
  'FORBIDDEN',
  'NOT_FOUND',
  'PAYLOAD_TOO_LARGE',
  'CONFLICT',
  'EDIT_WINDOW_EXPIRED',
]);

// ---------------------------------------------------------------- client → server

export interface SendMessageFrame {
  type: 'message';
  client_msg_id: string;
  message_type: Exclude<MessageType, 'system'>;
  content: string | IncidentData | null;
  mentions: string[];
  file_id?: string;
}

export type ClientFrame =
  | SendMessageFrame
  | { type: 'edit_message'; message_id: string; content: string }
  | { type: 'delete_message'; message_id: string }
  | { type: 'add_reaction'; message_id: string; emoji: string }
  | { type: 'remove_reaction'; message_id: string; emoji: string }
  | { type: 'typing'; is_typing: boolean }
  | { type: 'ping' }
  | { type: 'sync'; after_seq: number }
  | { type: 'sync'; after_change: number }
  | { type: 'presence' };

// ---------------------------------------------------------------- server → client

export type SystemEvent =
  | 'user_joined'
  | 'user_left'
  | 'room_status_changed'
  | 'member_added'
  | 'member_removed';

export class ProtocolError extends Error {}

/**
 * Parse one text frame and check it against what the server may send (the schema
 * of its frame models). Throws ProtocolError on anything else, so an unexpected
 * server change is loud rather than silently ignored.
 */
export function parseServerFrame(text: string): ServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ProtocolError('frame is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ProtocolError('frame is not an object');
  }
  const problem = checkAgainst(SERVER_FRAME_SCHEMA, value);
  if (problem !== null) throw new ProtocolError(problem);
  return value as ServerFrame;
}

/** Own messages can be edited for this long after they were sent. */
export const EDIT_WINDOW_MS = 15 * 60 * 1000;

export function isIncidentData(content: Message['content']): content is IncidentData {
  return typeof content === 'object' && content !== null && 'readings' in content;
}

/**
 * The readings of an incident_data message in either shape the server accepts:
 * the nested `{readings, units, machine_id, line, note}` or the specification's
 * flat `{"temperature": 85, "pressure": 120, "timestamp": "…"}` (every numeric
 * top-level field is a reading). Null when the content holds none.
 */
export function incidentData(content: Message['content']): IncidentData | null {
  if (typeof content !== 'object' || content === null) return null;
  if ('readings' in content && typeof content.readings === 'object' && content.readings !== null) {
    return content as IncidentData;
  }
  const readings: Record<string, number> = {};
  for (const [k, v] of Object.entries(content)) {
    if (typeof v === 'number' && Number.isFinite(v)) readings[k] = v;
  }
  if (!Object.keys(readings).length) return null;
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const c = content as Record<string, unknown>;
  const units =
    typeof c.units === 'object' && c.units !== null && !Array.isArray(c.units)
      ? (Object.fromEntries(Object.entries(c.units).filter(([, v]) => typeof v === 'string')) as Record<string, string>)
      : undefined;
  return { readings, units, machine_id: str(c.machine_id), line: str(c.line), note: str(c.note) };
}

/** UTF-8 bytes of the JSON text a frame is sent as. */
export function frameBytes(frame: unknown): number {
  return new TextEncoder().encode(JSON.stringify(frame)).length;
}

export function isSystemContent(content: Message['content']): content is SystemContent {
  return typeof content === 'object' && content !== null && 'event' in content;
}
