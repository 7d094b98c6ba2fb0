/**
 * Incident readings as series over time, one per reading name, in the order
 * the names first appeared. Pure, so the chart's points are unit-tested.
 */

import { incidentData } from '../protocol';
import type { IncidentData, Message } from '../protocol';

export interface ReadingSeries {
  name: string;
  unit: string;
  /** [seconds since epoch, value], oldest first */
  points: Array<[number, number]>;
  latest: number;
}

export function readingSeries(messages: readonly Message[]): ReadingSeries[] {
  const byName = new Map<string, ReadingSeries>();
  const sorted = messages
    .filter((m) => m.message_type === 'incident_data' && !m.deleted_at)
    .sort((a, b) => a.sequence_number - b.sequence_number);
  for (const m of sorted) {
    const data = incidentData(m.content);
    if (!data) continue;
    // The flat shape may carry its own time of measurement.
    const stamp = typeof (m.content as Record<string, unknown>).timestamp === 'string'
      ? Date.parse((m.content as Record<string, string>).timestamp!)
      : NaN;
    const at = (Number.isFinite(stamp) ? stamp : Date.parse(m.created_at)) / 1000;
    for (const [name, value] of Object.entries(data.readings)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      let s = byName.get(name);
      if (!s) {
        s = { name, unit: data.units?.[name] ?? '', points: [], latest: value };
        byName.set(name, s);
      }
      if (!s.unit && data.units?.[name]) s.unit = data.units[name]!;
      s.points.push([at, value]);
      s.latest = value;
    }
  }
  for (const s of byName.values()) s.points.sort((a, b) => a[0] - b[0]);
  return [...byName.values()];
}

/** Reading names with a label in each catalogue (`reading.<name>`); the form suggests them. */
export const KNOWN_READINGS = ['temperature', 'pressure', 'production_rate', 'humidity', 'spindle_rpm'] as const;

/**
 * The name to send for what was typed: a known reading's label in either
 * language (溫度, "production rate") is sent as its name (temperature), so one
 * chart gathers a reading whoever typed it; anything else as typed, spaces as _.
 */
export function readingNameOf(typed: string, labels: Record<string, readonly string[]>): string {
  const text = typed.trim();
  const folded = text.toLowerCase();
  for (const [name, names] of Object.entries(labels)) {
    if (names.some((l) => l.toLowerCase() === folded)) return name;
  }
  return folded.replace(/\s+/g, '_');
}

/** The latest incident_data content among the messages (of one sender when given), for prefill. */
export function lastReading(messages: readonly Message[], senderId?: string): IncidentData | null {
  let found: Message | null = null;
  for (const m of messages) {
    if (m.message_type !== 'incident_data' || m.deleted_at) continue;
    if (senderId && m.sender_id !== senderId) continue;
    if (!found || m.sequence_number > found.sequence_number) found = m;
  }
  return found ? incidentData(found.content) : null;
}
