/**
 * Every string a person reads comes from a catalogue: both catalogues hold the
 * same keys with the same {placeholders}, and no component writes words itself.
 */
import { describe, expect, it } from 'vitest';
import { CATALOGUES, detectLocale, translate } from '../src/i18n';
import { en } from '../src/i18n/en';
import { zhTW } from '../src/i18n/zh-TW';


const placeholders = (s: string): string[] => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!).sort();

describe('catalogues', () => {
  it('zh-TW has exactly the English keys', () => {
    expect(Object.keys(zhTW).sort()).toEqual(Object.keys(en).sort());
  });

  it('each translation keeps the placeholders of the English text', () => {
    for (const [key, text] of Object.entries(en)) {
      expect([key, placeholders(zhTW[key as keyof typeof en])]).toEqual([key, placeholders(text)]);
    }
  });

  it('no translation is empty', () => {
    for (const cat of Object.values(CATALOGUES)) for (const v of Object.values(cat)) expect(v.trim()).not.toBe('');
  });

  it('fills placeholders and groups numbers the language way', () => {
    expect(translate('en', 'room.jumpMany', { count: 1200 })).toBe('1,200 new messages');
    expect(translate('zh-TW', 'room.jumpMany', { count: 3 })).toBe('3 則新訊息');
  });

  it('picks the language from the browser, a remembered choice winning', () => {
    expect(detectLocale(['zh-TW', 'en'], null)).toBe('zh-TW');
    expect(detectLocale(['zh-Hant-TW'], null)).toBe('zh-TW');
    expect(detectLocale(['en-US'], null)).toBe('en');
    expect(detectLocale(['fr-FR'], null)).toBe('en');
    expect(detectLocale(['zh-TW'], 'en')).toBe('en');
  });
});

describe('components', () => {
  // Every component's source text, read by Vite at test time.
  const sources = import.meta.glob('../src/components/*.{ts,tsx}', { query: '?raw', import: 'default', eager: true }) as Record<
    string,
    string
  >;
  const files = Object.keys(sources);

  // Text between JSX tags with a word in it, and words in attributes people read.
  // (a `>` that ends an arrow `=>` or a generic type is code, not a tag)
  const JSX_TEXT = /(?<!=)[>}]\s*([^<>{}\n]*[A-Za-z\u4e00-\u9fff]{2,}[^<>{}\n]*)\s*<(?=[/A-Za-z])/g;
  const ATTR_TEXT = /\b(aria-label|title|placeholder|alt)="([^"]*[a-z]{2,}[^"]*)"/g;

  it.each(files)('%s has no hard-coded words', (file: string) => {
    const source = sources[file]!
      // comments are for developers
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*\/\/.*$/gm, '');
    const found: string[] = [];
    for (const m of source.matchAll(JSX_TEXT)) {
      const text = m[1]!.trim();
      // generics and comparisons (`Array<T> x`, `a < b`) are code, not text
      if (/^[\w.,\s|&()[\]=:'"?]*$/.test(text) && /[=:(),|&]/.test(text)) continue;
      if (/^(const|let|return|if|else|export|function|=>)\b/.test(text)) continue;
      // `x: Promise<T>`, `foo<Bar>()`: a type argument right after an identifier
      if (/^[\w.]+$/.test(text) && /[a-z]\.|^[A-Z]\w*$/.test(text) && !/\s/.test(text)) {
        const at = m.index! + m[0].length;
        if (/^[A-Z][\w.]*(<|>|\[|\s*\||,)/.test(source.slice(at - 1, at + 40).slice(1))) continue;
      }
      found.push(text);
    }
    for (const m of source.matchAll(ATTR_TEXT)) found.push(`${m[1]}="${m[2]}"`);
    expect(found).toEqual([]);
  });
});
