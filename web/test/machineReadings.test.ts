import { describe, expect, it } from 'vitest';
import { MAX_POINTS_PER_SERIES, machineSeries, mergeReadings } from '../src/lib/machineReadings';
import { parseServerFrame } from '../src/protocol';
import type { MachineReading } from '../src/protocol';

const at = (s: number): string => new Date(Date.UTC(2026, 11, 6, 1, 0, s)).toISOString();
const point = (s: number, value: number, extra: Partial<MachineReading> = {}): MachineReading => ({
  machine_id: 'OVEN-1',
  tag: 'temperature',
  ts: at(s),
  value,
  unit: '°C',
  quality: 'good',
  origin: 'machine',
  ...extra,
});

describe('machine readings', () => {
  it('keeps one point per machine, tag and time, oldest first, and a bounded window', () => {
    // Given points held and a live frame repeating one of them with a newer one
    const merged = mergeReadings([point(1, 10), point(2, 11)], [point(2, 11), point(3, 12)]);
    // Then each time appears once, in time order
    expect(merged.map((p) => p.value)).toEqual([10, 11, 12]);
    // And a long stream keeps only the newest points of each series
    const many = Array.from({ length: MAX_POINTS_PER_SERIES + 5 }, (_, i) => point(i, i));
    const kept = mergeReadings([], many);
    expect(kept).toHaveLength(MAX_POINTS_PER_SERIES);
    expect(kept[0]!.value).toBe(5);
  });

  it('charts machine and typed readings apart and marks doubtful points', () => {
    // Given machine points (one uncertain, one bad) and a typed reading of the same name
    const points = [point(0, 80), point(10, 81, { quality: 'uncertain' }), point(20, 99, { quality: 'bad' })];
    const typed = [{ name: 'temperature', unit: '°C', points: [[Date.parse(at(15)) / 1000, 82]] as Array<[number, number]>, latest: 82 }];
    // When they become a series
    const [s] = machineSeries(points, typed);
    // Then the machine line has every machine point, the typed one sits in its own series,
    // and uncertain and bad points are in their own series at their times
    expect(s!.machinePoints).toBe(3);
    expect(s!.typedPoints).toBe(1);
    expect(s!.doubtful).toBe(2);
    const [xs, machine, people, uncertain, bad] = s!.data;
    expect(xs).toHaveLength(4);
    expect(machine).toEqual([80, 81, null, 99]);
    expect(people).toEqual([null, null, 82, null]);
    expect(uncertain).toEqual([null, 81, null, null]);
    expect(bad).toEqual([null, null, null, 99]);
    expect(s!.latest).toBe(99);
  });

  it('accepts the readings frame', () => {
    // Given a readings frame as the server sends it, Then it parses as one
    const frame = parseServerFrame(JSON.stringify({ type: 'readings', line_id: 'l', timestamp: at(0), points: [point(0, 1)] }));
    expect(frame.type).toBe('readings');
  });
});
