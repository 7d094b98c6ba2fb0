/**
 * Alerts for messages that arrive while the person is not looking: a browser
 * notification (click focuses the tab and opens the room), a short sound and a
 * vibration, as the preferences allow. Browsers only allow sound after a user
 * gesture and only prompt for permission on one, so both wait for that.
 */

import { t } from '../i18n';
import type { Message } from '../protocol';
import { loadPrefs, shouldAlert } from './prefs';
import type { NotifyPrefs } from './prefs';

export interface AlertRequest {
  roomId: string;
  roomTitle: string;
  message: Message;
  isMention: boolean;
}

let gestureSeen = false;
let audio: AudioContext | null = null;
const recent: string[] = []; // message ids already alerted (room + user sockets both deliver)

/** Call once at start: remembers the first user gesture so sound is allowed. */
export function trackUserGesture(): void {
  const mark = (): void => {
    gestureSeen = true;
    window.removeEventListener('pointerdown', mark, true);
    window.removeEventListener('keydown', mark, true);
  };
  window.addEventListener('pointerdown', mark, true);
  window.addEventListener('keydown', mark, true);
}

export function hasUserGesture(): boolean {
  return gestureSeen;
}

/** The tab is hidden or another window has focus: the person would miss the message. */
export function pageIsUnattended(): boolean {
  return document.visibilityState === 'hidden' || !document.hasFocus();
}

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function playChime(mention: boolean): void {
  if (!gestureSeen) return;
  const Ctor = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
  if (!Ctor) return;
  try {
    audio ??= new Ctor();
    if (audio.state === 'suspended') void audio.resume();
    const now = audio.currentTime;
    // A mention plays two rising notes, a plain message one soft note.
    const notes = mention ? [880, 1320] : [660];
    notes.forEach((freq, i) => {
      const osc = audio!.createOscillator();
      const gain = audio!.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      const t = now + i * 0.14;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.12);
      osc.connect(gain).connect(audio!.destination);
      osc.start(t);
      osc.stop(t + 0.13);
    });
  } catch {
    /* audio is best effort */
  }
}

export function previewText(m: Message): string {
  if (m.deleted_at) return t('msg.deleted');
  if (typeof m.content === 'string') return m.content.slice(0, 140) || (m.file?.filename ?? '');
  if (m.message_type === 'incident_data') return t('notify.postedReadings');
  if (m.file) return m.file.filename;
  return '';
}

/**
 * Alert for a message if the page is unattended and preferences allow.
 * `openRoom` is called when the notification is clicked.
 */
export function alertForMessage(
  req: AlertRequest,
  openRoom: (roomId: string, messageId: string) => void,
  prefs: NotifyPrefs = loadPrefs(),
): boolean {
  if (recent.includes(req.message.message_id)) return false;
  if (!pageIsUnattended()) return false;
  if (!shouldAlert(prefs, req.isMention)) return false;
  recent.push(req.message.message_id);
  if (recent.length > 200) recent.shift();

  if (prefs.desktop && notificationsSupported() && Notification.permission === 'granted') {
    const title = req.isMention
      ? t('notify.mentionTitle', { name: req.message.sender_display_name, room: req.roomTitle })
      : t('notify.messageTitle', { name: req.message.sender_display_name, room: req.roomTitle });
    try {
      const n = new Notification(title, {
        body: previewText(req.message),
        // One notification per room replaces the last; a mention gets its own
        // tag and stays until clicked so it is not lost in the stream.
        tag: req.isMention ? `mention-${req.message.message_id}` : `room-${req.roomId}`,
        requireInteraction: req.isMention,
        silent: true, // our own sound plays instead, per preference
        data: { roomId: req.roomId, messageId: req.message.message_id },
      });
      n.onclick = () => {
        window.focus();
        openRoom(req.roomId, req.message.message_id);
        n.close();
      };
    } catch {
      /* some platforms need a service worker for notifications: skip */
    }
  }
  if (prefs.sound) playChime(req.isMention);
  if (prefs.vibrate && typeof navigator.vibrate === 'function') {
    try {
      navigator.vibrate(req.isMention ? [120, 60, 120] : 80);
    } catch {
      /* not allowed without a gesture on some browsers */
    }
  }
  return true;
}
