import { describe, expect, it } from 'vitest';
import { parseReadingValue } from '../src/lib/numbers';

const value = (text: string): number | undefined => {
  const r = parseReadingValue(text);
  return r.ok ? r.value : undefined;
};

describe('parseReadingValue', () => {
  it('reads well-formed thousands groups and decimal points', () => {
    // Given values as people type them, When parsed, Then each is the number meant
    expect(value('1,200')).toBe(1200);
    expect(value('12,345.6')).toBe(12345.6);
    expect(value('1,234,567')).toBe(1234567);
    expect(value(' 85.2 ')).toBe(85.2);
    expect(value('-3')).toBe(-3);
    expect(value('.5')).toBe(0.5);
    expect(value('2.1')).toBe(2.1);
    expect(value('0')).toBe(0);
  });

  it('refuses a comma that is not a thousands group, suggesting the decimal point', () => {
    // Given the coolant flow typed with a decimal comma (the incident's 2,1 L/min)
    // When parsed, Then it is refused as ambiguous and 2.1 is suggested, never read as 21
    expect(parseReadingValue('2,1')).toEqual({ ok: false, reason: 'ambiguous', suggestion: '2.1' });
    expect(parseReadingValue('1,20')).toEqual({ ok: false, reason: 'ambiguous', suggestion: '1.20' });
    expect(parseReadingValue('-0,5')).toEqual({ ok: false, reason: 'ambiguous', suggestion: '-0.5' });
    expect(parseReadingValue('1,2345').ok).toBe(false);
    expect(parseReadingValue('12,34,567').ok).toBe(false);
    expect(parseReadingValue('1,200,5').ok).toBe(false);
    expect(parseReadingValue('1,200.5.1').ok).toBe(false);
  });

  it('refuses what is not a number', () => {
    expect(parseReadingValue('')).toEqual({ ok: false, reason: 'empty' });
    expect(parseReadingValue('12a')).toEqual({ ok: false, reason: 'invalid' });
    expect(parseReadingValue('abc').ok).toBe(false);
    expect(parseReadingValue('.').ok).toBe(false);
    expect(parseReadingValue('-').ok).toBe(false);
    expect(parseReadingValue('e5').ok).toBe(false);
    expect(parseReadingValue('1e999').ok).toBe(false);
  });

  it("reads back each locale's own way of printing numbers (zh-TW and English)", () => {
    // Given numbers as each supported locale prints them
    for (const locale of ['zh-TW', 'en']) {
      const fmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 3 });
      for (const n of [0, 7, 85.2, 1200, 12345.6, 1234567.891, -42.5]) {
        // When the printed form is typed back, Then it reads as the same number
        expect(value(fmt.format(n))).toBe(n);
      }
    }
  });

  it('reads full-width digits and punctuation as a Chinese IME types them', () => {
    // Given digits typed in full width (１，２００．５), When parsed, Then they are the ASCII number
    expect(value('１，２００．５')).toBe(1200.5);
    expect(value('８７')).toBe(87);
    expect(parseReadingValue('２，１')).toEqual({ ok: false, reason: 'ambiguous', suggestion: '2.1' });
  });
});
