/**
 * The interface language: English or Traditional Chinese (zh-TW), chosen from
 * the browser's languages until the person picks one in the user menu, then
 * remembered. Every string a person reads comes from a catalogue here (a test
 * fails on a key one catalogue lacks, and on literal text in components).
 *
 * Times are always shown in GMT+8 whatever the language (see lib/time.ts); only
 * words, day names and number grouping change with it.
 */

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { en } from './en';
import type { Key } from './en';
import { zhTW } from './zh-TW';

export type { Key } from './en';
export type Locale = 'en' | 'zh-TW';
export const LOCALES: readonly Locale[] = ['en', 'zh-TW'];

export const CATALOGUES: Record<Locale, Record<Key, string>> = { en, 'zh-TW': zhTW };

const STORE_KEY = 'warroom.locale';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/** The remembered choice, else the first browser language we have (zh-* → zh-TW), else English. */
export function detectLocale(
  languages: readonly string[] = typeof navigator === 'undefined' ? [] : navigator.languages ?? [navigator.language],
  stored: string | null = storage()?.getItem(STORE_KEY) ?? null,
): Locale {
  if (stored === 'en' || stored === 'zh-TW') return stored;
  for (const lang of languages) {
    const l = lang.toLowerCase();
    if (l.startsWith('zh')) return 'zh-TW';
    if (l.startsWith('en')) return 'en';
  }
  return 'en';
}

let current: Locale = detectLocale();

export function currentLocale(): Locale {
  return current;
}

export function setLocale(locale: Locale, remember = true): void {
  current = locale;
  if (remember) storage()?.setItem(STORE_KEY, locale);
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}

export type Params = Record<string, string | number>;

/** `{name}` placeholders are filled from params; numbers are grouped for the language. */
export function translate(locale: Locale, key: Key, params?: Params): string {
  const text = CATALOGUES[locale][key] ?? CATALOGUES.en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    if (v === undefined) return whole;
    return typeof v === 'number' ? formatNumber(v, locale) : v;
  });
}

export function t(key: Key, params?: Params): string {
  return translate(current, key, params);
}

/** One of two keys by count (English needs it; Chinese has the same text for both). */
export function tn(one: Key, other: Key, count: number, params: Params = {}): string {
  return t(count === 1 ? one : other, { count, ...params });
}

export function formatNumber(n: number, locale: Locale = current): string {
  return new Intl.NumberFormat(locale).format(n);
}

/** Re-renders its consumers (memoised ones too) when the language changes. */
export const LocaleContext = createContext<Locale>(current);

export function useT(): typeof t {
  useContext(LocaleContext);
  return t;
}
