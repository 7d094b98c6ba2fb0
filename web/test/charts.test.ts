import { describe, expect, it } from 'vitest';
import { chartOptions, timeRange } from '../src/components/ReadingsPanel';
import type { ReadingSeries } from '../src/lib/readings';

const at = Date.parse('2026-12-06T01:00:00Z') / 1000;

describe('the time axis of a readings chart', () => {
  it('puts a lone reading in the middle of ten minutes', () => {
    // Given one reading, When the axis range is asked for its single time
    // Then the axis runs from 5 min before to 5 min after it
    expect(timeRange(null, at, at)).toEqual([at - 300, at + 300]);
  });

  it("keeps two or more readings' own span", () => {
    expect(timeRange(null, at, at + 60)).toEqual([at, at + 60]);
  });

  it('labels a lone reading with minutes, and wires the range into the chart', () => {
    // Given a series of one point
    const one: ReadingSeries = { name: 'temperature', unit: '°C', points: [[at, 87]], latest: 87 };
    // When its chart options are built
    const options = chartOptions(one, 320, 140, '#000');
    // Then the x scale uses the ±5 min range and the labels are HH:mm (09:00 in Taipei), not 00:00:00
    expect(options.scales!.x!.range).toBe(timeRange);
    const values = options.axes![0]!.values as (u: unknown, splits: number[]) => string[];
    expect(values(null, [at - 300, at, at + 300])).toEqual(['08:55', '09:00', '09:05']);
  });
});

describe('axisSpan', () => {
  it('names the ends of a lone reading axis in GMT+8', async () => {
    const { axisSpan } = await import('../src/components/ReadingsPanel');
    expect(axisSpan({ name: 't', unit: '', points: [[at, 1]], latest: 1 })).toBe('08:55–09:05');
  });
});
