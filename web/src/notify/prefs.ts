/** Notification preferences and the permission prompt's outcome, kept in localStorage. */

export interface NotifyPrefs {
  desktop: boolean;
  sound: boolean;
  vibrate: boolean;
  mentionsOnly: boolean;
}

export const DEFAULT_PREFS: NotifyPrefs = { desktop: true, sound: true, vibrate: true, mentionsOnly: false };

const PREFS_KEY = 'warroom.notifyPrefs';
const ASKED_KEY = 'warroom.notifyAsked';

function storage(): Storage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null; // disabled storage (privacy mode): run with defaults
  }
}

export function loadPrefs(store: Storage | null = storage()): NotifyPrefs {
  const raw = store?.getItem(PREFS_KEY);
  if (!raw) return { ...DEFAULT_PREFS };
  try {
    const v = JSON.parse(raw) as Partial<NotifyPrefs>;
    return {
      desktop: typeof v.desktop === 'boolean' ? v.desktop : DEFAULT_PREFS.desktop,
      sound: typeof v.sound === 'boolean' ? v.sound : DEFAULT_PREFS.sound,
      vibrate: typeof v.vibrate === 'boolean' ? v.vibrate : DEFAULT_PREFS.vibrate,
      mentionsOnly: typeof v.mentionsOnly === 'boolean' ? v.mentionsOnly : DEFAULT_PREFS.mentionsOnly,
    };
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function savePrefs(prefs: NotifyPrefs, store: Storage | null = storage()): void {
  store?.setItem(PREFS_KEY, JSON.stringify(prefs));
}

/** 'granted' | 'denied' | 'dismissed' once the person answered our prompt. */
export type AskOutcome = 'granted' | 'denied' | 'dismissed';

export function loadAskOutcome(store: Storage | null = storage()): AskOutcome | null {
  const v = store?.getItem(ASKED_KEY);
  return v === 'granted' || v === 'denied' || v === 'dismissed' ? v : null;
}

export function saveAskOutcome(outcome: AskOutcome, store: Storage | null = storage()): void {
  store?.setItem(ASKED_KEY, outcome);
}

/**
 * Whether an incoming message should alert at all. Mentions always do (unless
 * everything is off); "mentions only" silences the rest.
 */
export function shouldAlert(prefs: NotifyPrefs, isMention: boolean): boolean {
  if (isMention) return true;
  return !prefs.mentionsOnly;
}
