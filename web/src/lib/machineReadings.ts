/**
 * Machine readings (issue 18) as chart series: one per machine and tag, with the
 * people's typed readings of the same name beside them and doubtful points apart.
 * Pure, so what a chart draws is unit-tested.
 */

import type { MachineReading } from '../protocol';
import type { ReadingSeries } from './readings';

/** At most this many points are kept per machine and tag (about 15 minutes at 1 Hz). */
export const MAX_POINTS_PER_SERIES = 1000;

export interface MachineSeries {
  machine_id: string;
  tag: string;
  unit: string;
  latest: number;
  machinePoints: number;
  typedPoints: number;
  /** points of uncertain or bad quality */
  doubtful: number;
  /** uPlot's aligned data: x (seconds), machine, typed, uncertain, bad */
  data: [number[], Array<number | null>, Array<number | null>, Array<number | null>, Array<number | null>];
}

const keyOf = (p: MachineReading): string => `${p.machine_id}\u0000${p.tag}\u0000${p.ts}`;

/** `held` with `incoming` added: one point per machine, tag and time, oldest first. */
export function mergeReadings(held: readonly MachineReading[], incoming: readonly MachineReading[]): MachineReading[] {
  const byKey = new Map<string, MachineReading>();
  for (const p of held) byKey.set(keyOf(p), p);
  for (const p of incoming) byKey.set(keyOf(p), p);
  const merged = [...byKey.values()].sort((a, b) => Date.parse(a.ts) - Date.parse(b.ts));
  const counts = new Map<string, number>();
  const kept: MachineReading[] = [];
  for (let i = merged.length - 1; i >= 0; i--) {
    const p = merged[i]!;
    const k = `${p.machine_id}\u0000${p.tag}`;
    const n = counts.get(k) ?? 0;
    if (n >= MAX_POINTS_PER_SERIES) continue;
    counts.set(k, n + 1);
    kept.push(p);
  }
  return kept.reverse();
}

export function machineSeries(points: readonly MachineReading[], typed: readonly ReadingSeries[]): MachineSeries[] {
  const groups = new Map<string, MachineReading[]>();
  for (const p of points) {
    const k = `${p.machine_id}\u0000${p.tag}`;
    const list = groups.get(k) ?? [];
    list.push(p);
    groups.set(k, list);
  }
  const out: MachineSeries[] = [];
  for (const list of groups.values()) {
    const first = list[0]!;
    const people = typed.find((s) => s.name === first.tag);
    const rows = new Map<number, [number | null, number | null, number | null, number | null]>();
    for (const p of list) {
      const x = Date.parse(p.ts) / 1000;
      const row = rows.get(x) ?? [null, null, null, null];
      row[0] = p.value;
      if (p.quality === 'uncertain') row[2] = p.value;
      if (p.quality === 'bad') row[3] = p.value;
      rows.set(x, row);
    }
    const since = Date.parse(list[0]!.ts) / 1000;
    for (const [x, v] of people?.points ?? []) {
      if (x < since) continue; // only beside the machine's own window
      const row = rows.get(x) ?? [null, null, null, null];
      row[1] = v;
      rows.set(x, row);
    }
    const xs = [...rows.keys()].sort((a, b) => a - b);
    const col = (i: number): Array<number | null> => xs.map((x) => rows.get(x)![i] ?? null);
    out.push({
      machine_id: first.machine_id,
      tag: first.tag,
      unit: list.find((p) => p.unit)?.unit ?? '',
      latest: list[list.length - 1]!.value,
      machinePoints: list.length,
      typedPoints: col(1).filter((v) => v !== null).length,
      doubtful: list.filter((p) => p.quality !== 'good').length,
      data: [xs, col(0), col(1), col(2), col(3)],
    });
  }
  return out.sort((a, b) => a.machine_id.localeCompare(b.machine_id) || a.tag.localeCompare(b.tag));
}
