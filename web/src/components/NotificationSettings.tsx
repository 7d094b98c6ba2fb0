import { useState } from 'preact/hooks';
import { notificationsSupported } from '../notify/notifier';
import { loadPrefs, saveAskOutcome, savePrefs } from '../notify/prefs';
import type { NotifyPrefs } from '../notify/prefs';
import { Modal } from './Modal';

const OPTIONS: Array<{ key: keyof NotifyPrefs; label: string; hint: string }> = [
  { key: 'desktop', label: 'Desktop notifications', hint: 'A system notification when a message arrives while this tab is in the background.' },
  { key: 'sound', label: 'Sound', hint: 'A short chime (mentions sound different).' },
  { key: 'vibrate', label: 'Vibration', hint: 'On phones and tablets that support it.' },
  { key: 'mentionsOnly', label: 'Mentions only', hint: 'Alert only when someone @mentions you.' },
];

/** Each change is saved at once, so there is nothing to forget to confirm. */
export function NotificationSettings({ onClose }: { onClose: () => void }) {
  const [prefs, setPrefs] = useState<NotifyPrefs>(loadPrefs);
  const [permission, setPermission] = useState<NotificationPermission | 'unsupported'>(
    notificationsSupported() ? Notification.permission : 'unsupported',
  );

  const toggle = (key: keyof NotifyPrefs, value: boolean): void => {
    const next = { ...prefs, [key]: value };
    setPrefs(next);
    savePrefs(next);
  };

  return (
    <Modal title="Notification settings" onClose={onClose}>
      <form class="form settings" onSubmit={(e) => e.preventDefault()}>
        {OPTIONS.map((o) => (
          <label class="switch" key={o.key}>
            <input
              type="checkbox"
              role="switch"
              checked={prefs[o.key]}
              onChange={(e) => toggle(o.key, e.currentTarget.checked)}
            />
            <span>
              <strong>{o.label}</strong>
              <small>{o.hint}</small>
            </span>
          </label>
        ))}
        <p class="muted permission-state" role="status">
          Browser permission:{' '}
          {permission === 'unsupported' ? 'not supported in this browser' : permission === 'default' ? 'not asked yet' : permission}
        </p>
        {permission === 'default' && (
          <button
            type="button"
            onClick={() => {
              void Notification.requestPermission().then((p) => {
                setPermission(p);
                saveAskOutcome(p === 'granted' ? 'granted' : p === 'denied' ? 'denied' : 'dismissed');
              });
            }}
          >
            Allow browser notifications
          </button>
        )}
        <div class="form-actions">
          <button type="button" class="primary" onClick={onClose}>
            Done
          </button>
        </div>
      </form>
    </Modal>
  );
}
