/**
 * Incident readings as series over time, one per reading name, in the order
 * the names first appeared. Pure, so the chart's points are unit-tested.
 */

import { incidentData } from '../protocol';
import type { Message } from '../protocol';

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
