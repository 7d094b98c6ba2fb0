/** The incident record (issue 17): its wire types and the lifecycle the server enforces. */

import type { IncidentState, Message } from '../protocol';

export type ReportLang = 'zh-TW' | 'en';
export type FollowUpStatus = 'open' | 'done' | 'cancelled';
export const FOLLOW_UP_STATUSES: readonly FollowUpStatus[] = ['open', 'done', 'cancelled'];

export interface TimelineEntry {
  entry_id: string;
  kind: 'milestone' | 'severity' | 'handover' | 'pin';
  event_time: string;
  recorded_at: string;
  by: string;
  by_display_name: string;
  message_id?: string | null;
  message?: Message | null;
  state?: IncidentState | null;
  from_state?: IncidentState | null;
  note?: string | null;
  severity?: string | null;
  from_severity?: string | null;
  commander_id?: string | null;
  from_commander_id?: string | null;
}

export interface FollowUp {
  follow_up_id: string;
  room_id: string;
  title: string;
  owner_id: string;
  owner_display_name: string;
  due: string;
  status: FollowUpStatus;
  overdue: boolean;
}

export interface RoomMetrics {
  time_to_acknowledge_s: number | null;
  time_to_contain_s: number | null;
  time_to_resolve_s: number | null;
  downtime_minutes: number | null;
}

export interface Line {
  line_id: string;
  name: string;
  location: string;
  owner_id: string;
  label_zh: string;
  label_en: string;
  stop_reasons: Array<{ code: string; 'zh-TW': string; en: string }>;
}

export interface WeeklyMetrics {
  line_id: string | null;
  week: string;
  incidents: number;
  mtta_s: number | null;
  mttr_s: number | null;
  downtime_minutes: number;
}

/** The moves the server allows from each state (layers/warroom/logic/incident.py). */
export const NEXT_STATES: Record<IncidentState, readonly IncidentState[]> = {
  declared: ['acknowledged'],
  acknowledged: ['contained'],
  contained: ['resolved'],
  resolved: ['closed', 'acknowledged'],
  closed: ['acknowledged'],
};

/** The state of a room from a server that predates it, from its status. */
export function stateOf(room: { state?: IncidentState; status: string }): IncidentState {
  if (room.state) return room.state;
  return room.status === 'resolved' ? 'resolved' : room.status === 'archived' ? 'closed' : 'declared';
}

/** A pinnable message: what people posted (text, photo, file, reading), not room events. */
export function canPin(m: Message): boolean {
  return m.message_type !== 'system' && !m.deleted_at;
}

/** `datetime-local` value (GMT+8, as every time in the app) ↔ ISO instant. */
export function toLocalInput(iso: string): string {
  const d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16);
}

export function fromLocalInput(value: string): string {
  return new Date(`${value}:00+08:00`).toISOString();
}
