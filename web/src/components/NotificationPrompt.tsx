import { useState } from 'preact/hooks';
import { notificationsSupported } from '../notify/notifier';
import { loadAskOutcome, saveAskOutcome } from '../notify/prefs';

/**
 * Asked on the first visit to a room. Browsers refuse permission requests that
 * are not triggered by a user gesture, so this is a button, not an automatic
 * prompt; the answer is remembered so it is asked once.
 */
export function NotificationPrompt() {
  const [visible, setVisible] = useState(
    () => notificationsSupported() && Notification.permission === 'default' && loadAskOutcome() === null,
  );
  if (!visible) return null;
  return (
    <div class="notify-prompt" role="region" aria-label="Enable notifications">
      <span>Get alerted about new messages and mentions while this tab is in the background?</span>
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
          Enable notifications
        </button>
        <button
          type="button"
          onClick={() => {
            saveAskOutcome('dismissed');
            setVisible(false);
          }}
        >
          Not now
        </button>
      </span>
    </div>
  );
}
