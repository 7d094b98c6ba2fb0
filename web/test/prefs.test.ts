import { describe, expect, it } from 'vitest';
import { DEFAULT_PREFS, loadAskOutcome, loadPrefs, saveAskOutcome, savePrefs, shouldAlert } from '../src/notify/prefs';

class MemoryStorage implements Storage {
  private data = new Map<string, string>();
  get length() {
    return this.data.size;
  }
  clear() {
    this.data.clear();
  }
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  key(i: number) {
    return [...this.data.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
}

describe('notification preferences', () => {
  it('round-trips through storage', () => {
    const s = new MemoryStorage();
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
    savePrefs({ desktop: false, sound: true, vibrate: false, mentionsOnly: true }, s);
    expect(loadPrefs(s)).toEqual({ desktop: false, sound: true, vibrate: false, mentionsOnly: true });
  });

  it('survives corrupt or partial values', () => {
    const s = new MemoryStorage();
    s.setItem('warroom.notifyPrefs', '{nope');
    expect(loadPrefs(s)).toEqual(DEFAULT_PREFS);
    s.setItem('warroom.notifyPrefs', '{"sound":false,"desktop":"yes"}');
    expect(loadPrefs(s)).toEqual({ ...DEFAULT_PREFS, sound: false });
  });

  it('remembers the answer to the permission prompt', () => {
    const s = new MemoryStorage();
    expect(loadAskOutcome(s)).toBeNull();
    saveAskOutcome('dismissed', s);
    expect(loadAskOutcome(s)).toBe('dismissed');
  });

  it('mentions always alert; "mentions only" silences the rest', () => {
    expect(shouldAlert({ ...DEFAULT_PREFS, mentionsOnly: true }, true)).toBe(true);
    expect(shouldAlert({ ...DEFAULT_PREFS, mentionsOnly: true }, false)).toBe(false);
    expect(shouldAlert(DEFAULT_PREFS, false)).toBe(true);
  });
});
