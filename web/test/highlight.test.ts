import { describe, expect, it } from 'vitest';
import { splitHighlight } from '../src/lib/highlight';

describe('splitHighlight', () => {
  it('splits on U+E000/U+E001 into matches and text', () => {
    expect(splitHighlight('spindle \uE000temp\uE001 at \uE00085\uE001 C')).toEqual([
      { text: 'spindle ', match: false },
      { text: 'temp', match: true },
      { text: ' at ', match: false },
      { text: '85', match: true },
      { text: ' C', match: false },
    ]);
  });

  it('keeps markup as text and drops stray markers', () => {
    expect(splitHighlight('<b>\uE001x\uE000<i>')).toEqual([
      { text: '<b>x', match: false },
      { text: '<i>', match: true },
    ]);
  });

  it('handles empty input', () => {
    expect(splitHighlight('')).toEqual([]);
  });
});
