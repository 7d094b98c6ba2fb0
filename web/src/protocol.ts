/**
 * The wire contract between this client and the backend (WebSocket frames and
 * the JSON shapes of the HTTP API). Every frame the server may send has a type
 * here, and `parseServerFrame` is the single place that turns raw text into one.
 */

export type Role = 'OWNER' | 'EDITOR' | 'VIEWER';
export type RoomStatus = 'active' | 'resolved' | 'archived';
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export type MessageType = 'text' | 'image_ref' | 'file_ref' | 'incident_data' | 'system';

export const ROOM_STATUSES: readonly RoomStatus[] = ['active', 'resolved', 'archived'];
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

export interface Reaction {
  emoji: string;
  count: number;
  user_ids: string[];
}

export interface FileInfo {
  file_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
}

/** incident_data content: one machine's readings. */
export interface IncidentData {
  machine_id?: string | null;
  line?: string | null;
  readings: Record<string, number>;
  units?: Record<string, string>;
  note?: string | null;
}

/** system message content kept in history (status and membership changes). */
export interface SystemContent {
  event: string;
  user_id?: string;
  text?: string;
  [key: string]: unknown;
}

export interface Message {
  message_id: string;
  room_id: string;
  sender_id: string;
  sender_display_name: string;
  /** string for text/captions, an object for incident_data/system, null when deleted */
  content: string | IncidentData | SystemContent | null;
  message_type: MessageType;
  mentions: string[];
  file_id?: string | null;
  file_url?: string | null;
  file?: FileInfo | null;
  created_at: string;
  edited_at?: string | null;
  deleted_at?: string | null;
  sequence_number: number;
  reactions: Reaction[];
  /** bumps with every reaction change, so a late reaction_updated cannot undo a newer one */
  reactions_version?: number;
  client_msg_id?: string | null;
  /** the frame would have passed 128 KB: content was left out, read the message over HTTP */
  content_truncated?: boolean;
  /** the room's change number of the last change that touched this message */
  change_seq?: number;
}

export interface Room {
  room_id: string;
  title: string;
  status: RoomStatus;
  severity: Severity;
  location: string;
  lots: string[];
  created_by: string;
  created_at: string;
  updated_at: string;
  last_activity_at: string;
  last_seq: number;
  my_role: Role | null;
  unread_count: number;
  mention_count: number;
}

export interface Member {
  user_id: string;
  display_name: string;
  role: Role;
  joined_at: string;
  last_read_seq: number;
}

export interface UserSummary {
  user_id: string;
  display_name: string;
}

export interface Me extends UserSummary {
  is_admin: boolean;
}

export interface Limits {
  max_file_bytes: number;
  allowed_content_types: string[];
  max_content_bytes: number;
}

export interface HistoryPage {
  messages: Message[];
  has_more: boolean;
  next_before?: string | null;
  next_before_seq?: number | null;
}

export interface SearchHit {
  message: Message;
  highlight: string;
}

export interface FileLink {
  url: string;
  filename?: string;
  content_type?: string;
  size_bytes?: number;
}

export interface UploadTicket {
  file_id: string;
  upload: { url: string; fields: Record<string, string> };
}

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

/** API Gateway closes a socket on a client frame over this many bytes. */
export const MAX_FRAME_BYTES = 32 * 1024;

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

export interface AckFrame {
  type: 'ack';
  client_msg_id: string;
  message_id: string;
  sequence_number: number;
  created_at: string;
  change_seq?: number;
  /** mentioned people who are not members: stored, not notified */
  unresolved_mentions?: string[];
}
export interface MessageFrame {
  type: 'message';
  message: Message;
  change_seq?: number;
}
export interface MessageEditedFrame {
  type: 'message_edited';
  message: Message;
  change_seq?: number;
}
export interface MessageDeletedFrame {
  type: 'message_deleted';
  message_id: string;
  deleted_at: string;
  sequence_number?: number;
  change_seq?: number;
}
export interface ReactionUpdatedFrame {
  type: 'reaction_updated';
  message_id: string;
  room_id?: string;
  reactions: Reaction[];
  version?: number;
  change_seq?: number;
}
export interface SystemFrame {
  type: 'system';
  event: SystemEvent | string;
  user_id?: string;
  display_name?: string;
  timestamp?: string;
  /** joins and departures are coalesced by the server: everyone in this frame */
  users?: UserSummary[];
  change_seq?: number;
  [key: string]: unknown;
}
export interface PresenceFrame {
  type: 'presence';
  online: UserSummary[];
}
export interface TypingFrame {
  type: 'typing';
  user_id: string;
  display_name: string;
  is_typing: boolean;
}
export interface PongFrame {
  type: 'pong';
}
export interface SyncFrame {
  type: 'sync';
  messages: Message[];
  has_more: boolean;
  /** present on a reply to `after_change`: the change number to resume from next */
  after_change?: number;
  change_seq?: number;
}
export interface NotificationFrame {
  type: 'notification';
  event: 'mention' | 'message';
  room_id: string;
  message: Message;
}
export interface ErrorFrame {
  type: 'error';
  code: ErrorCode | string;
  message: string;
  client_msg_id?: string | null;
  /** RATE_LIMITED: seconds to wait before sending again */
  retry_after?: number;
}

export type ServerFrame =
  | AckFrame
  | MessageFrame
  | MessageEditedFrame
  | MessageDeletedFrame
  | ReactionUpdatedFrame
  | SystemFrame
  | PresenceFrame
  | TypingFrame
  | PongFrame
  | SyncFrame
  | NotificationFrame
  | ErrorFrame;

export class ProtocolError extends Error {}

const SERVER_FRAME_TYPES = new Set<ServerFrame['type']>([
  'ack',
  'message',
  'message_edited',
  'message_deleted',
  'reaction_updated',
  'system',
  'presence',
  'typing',
  'pong',
  'sync',
  'notification',
  'error',
]);

/**
 * Parse one text frame. Throws ProtocolError on anything that is not a known
 * frame, so an unexpected server change is loud rather than silently ignored.
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
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !SERVER_FRAME_TYPES.has(type as ServerFrame['type'])) {
    throw new ProtocolError(`unknown frame type ${String(type)}`);
  }
  return value as ServerFrame;
}

/** The maximum bytes of a text message body, as the server enforces it. */
export const MAX_CONTENT_BYTES = 64 * 1024;
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
