import { afterEach, describe, expect, it } from 'vitest';
import { describeTypes } from '../src/components/Composer';
import { setLocale } from '../src/i18n';

const TYPES = ['image/png', 'image/jpeg', 'application/pdf', 'text/plain', 'text/csv', 'application/zip', 'video/mp4'];

describe('the attach tooltip', () => {
  afterEach(() => setLocale('en', false));

  it('names kinds of files in Chinese, never MIME types', () => {
    // Given the server's allowed types, When described for a zh-TW reader
    setLocale('zh-TW', false);
    const text = describeTypes(TYPES);
    // Then it reads as kinds a person knows, with no type/subtype left
    expect(text).toBe('照片、PDF、文字檔、ZIP、影片');
    expect(text).not.toMatch(/\w+\/\w+/);
  });

  it('does the same in English', () => {
    expect(describeTypes(TYPES)).toBe('photos, PDF, text, ZIP, videos');
  });
});
