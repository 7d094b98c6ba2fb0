import { useState } from 'preact/hooks';
import { useT } from '../i18n';
import { notificationsSupported } from '../notify/notifier';
import { loadAskOutcome, saveAskOutcome } from '../notify/prefs';

/**
 * Asked on the first visit to a room. Browsers refuse permission requests that
 * are not triggered by a user gesture, so this is a button, not an automatic
 * prompt; the answer is remembered so it is asked once.
 */
export function NotificationPrompt() {
  const t = useT();
  const [visible, setVisible] = useState(
    () => notificationsSupported() && Notification.permission === 'default' && loadAskOutcome() === null,
  );
  if (!visible) return null;
  return (
    <div class="notify-prompt" role="region" aria-label={t('prompt.enable')}>
      <span>{t('prompt.text')}</span>
      <span class="notify-prompt-actions">
        <button
          type="button"
          class="primary"
          onClick={() => {
            void Notification.requestPermission().then((p) => {
              saveAskOutcome(p === 'granted' ? 'granted' : p === 'denied' ? 'denied' : 'dismissed');
              setVisible(false);
            });
          }}
        >
          {t('prompt.enable')}
        </button>
        <button
          type="button"
          onClick={() => {
            saveAskOutcome('dismissed');
            setVisible(false);
          }}
        >
          {t('prompt.notNow')}
        </button>
      </span>
    </div>
  );
}
