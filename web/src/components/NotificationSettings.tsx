import { useEffect, useState } from 'preact/hooks';
import type { Api } from '../api';
import { useT } from '../i18n';
import type { Key } from '../i18n';
import { notificationsSupported } from '../notify/notifier';
import { loadPrefs, saveAskOutcome, savePrefs } from '../notify/prefs';
import type { NotifyPrefs } from '../notify/prefs';
import { currentPushSubscription, disablePush, enablePush, pushSupported } from '../notify/push';
import { Modal } from './Modal';

const OPTIONS: Array<{ key: keyof NotifyPrefs; label: Key; hint: Key }> = [
  { key: 'desktop', label: 'settings.desktop', hint: 'settings.desktopHint' },
  { key: 'sound', label: 'settings.sound', hint: 'settings.soundHint' },
  { key: 'vibrate', label: 'settings.vibrate', hint: 'settings.vibrateHint' },
  { key: 'mentionsOnly', label: 'settings.mentionsOnly', hint: 'settings.mentionsOnlyHint' },
];

/** Each change is saved at once, so there is nothing to forget to confirm. */
export function NotificationSettings({ onClose, api }: { onClose: () => void; api?: Api }) {
  const t = useT();
  // "Push to this device" (issue 19): notifications with the browser closed
  const [pushOn, setPushOn] = useState(false);
  const [pushBusy, setPushBusy] = useState(false);
  const [pushError, setPushError] = useState<string | null>(null);
  useEffect(() => {
    void currentPushSubscription().then((s) => setPushOn(s !== null));
  }, []);
  const togglePush = (on: boolean): void => {
    if (!api) return;
    setPushBusy(true);
    setPushError(null);
    (on ? enablePush(api) : disablePush(api))
      .then(() => setPushOn(on))
      .catch(() => setPushError(t('push.failed')))
      .finally(() => setPushBusy(false));
  };
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
    <Modal title={t('settings.title')} onClose={onClose}>
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
              <strong>{t(o.label)}</strong>
              <small>{t(o.hint)}</small>
            </span>
          </label>
        ))}
        {api && pushSupported() && (
          <label class="switch">
            <input
              type="checkbox"
              role="switch"
              checked={pushOn}
              disabled={pushBusy}
              onChange={(e) => togglePush(e.currentTarget.checked)}
            />
            <span>
              <strong>{t('push.thisDevice')}</strong>
              <small>{pushError ?? t('push.thisDeviceHint')}</small>
            </span>
          </label>
        )}
        <p class="muted permission-state" role="status">
          {t('settings.permission', {
            state:
              permission === 'unsupported'
                ? t('settings.unsupported')
                : permission === 'default'
                  ? t('settings.notAsked')
                  : permission === 'granted'
                    ? t('settings.granted')
                    : t('settings.denied'),
          })}
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
            {t('settings.allow')}
          </button>
        )}
        <div class="form-actions">
          <button type="button" class="primary" onClick={onClose}>
            {t('common.done')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
