import { describe, expect, it } from 'vitest';
import { READING_NAME } from '../src/lib/format';
import { reportFileName } from '../src/components/ReportPreview';

describe('the readings form', () => {
  it('accepts reading names in any script', () => {
    expect(READING_NAME.test('溫度')).toBe(true);
    expect(READING_NAME.test('production_rate')).toBe(true);
    expect(READING_NAME.test('1st')).toBe(false);
    expect(READING_NAME.test('bad name')).toBe(false);
  });
});

describe('reportFileName', () => {
  it('keeps Chinese and drops only what file systems refuse', () => {
    expect(reportFileName('烤箱停機')).toBe('烤箱停機-report.md');
    expect(reportFileName('Line 3: oven / stop?')).toBe('Line-3-oven-stop-report.md');
    expect(reportFileName('  ')).toBe('war-room-report.md');
  });
});
