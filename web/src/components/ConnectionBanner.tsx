import { useEffect, useState } from 'preact/hooks';
import type { ConnState } from '../conn/machine';
import { tn, useT } from '../i18n';

interface Props {
  state: ConnState;
  label: string;
  onReconnectNow?: () => void;
}

/** Tells the person, in words, whether what they see is live. */
export function ConnectionBanner({ state, label, onReconnectNow }: Props) {
  const t = useT();
  const [, tick] = useState(0);
  // Re-render each second while waiting so the countdown moves.
  useEffect(() => {
    if (state.status !== 'backoff') return;
    const timer = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(timer);
  }, [state.status]);

  let kind: 'ok' | 'warn' | 'error' = 'ok';
  let text = '';
  const pending = state.outbox.filter((e) => e.status === 'pending').length;
  switch (state.status) {
    case 'open':
      if (state.syncing) {
        kind = 'warn';
        text = t('conn.catchingUp');
      }
      break;
    case 'idle':
    case 'connecting':
      kind = state.offline ? 'error' : 'warn';
      text = state.offline
        ? t('conn.offline', { label })
        : state.attempt
          ? t('conn.reconnecting', { label })
          : t('conn.connecting', { label });
      break;
    case 'backoff': {
      kind = 'error';
      const secs = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : 0;
      text = state.offline ? t('conn.offline', { label }) : t('conn.lost', { label, seconds: secs });
      break;
    }
    case 'stopped':
      kind = 'error';
      text = state.fatal ? t('conn.stoppedBecause', { label, reason: state.fatal }) : t('conn.stopped', { label });
      break;
  }
  const visible = text !== '';
  return (
    <div
      class={`conn-banner conn-${kind}${visible ? '' : ' conn-hidden'}`}
      role="status"
      aria-live="polite"
      data-conn-status={state.status}
      data-offline={state.offline ? 'true' : 'false'}
      data-live={state.status === 'open' && !state.syncing ? 'true' : 'false'}
    >
      {visible && (
        <>
          <span>{text}</span>
          {pending > 0 && <span> {tn('conn.waitingOne', 'conn.waitingMany', pending)}</span>}
          {state.status === 'backoff' && onReconnectNow && (
            <button type="button" class="link-button" onClick={onReconnectNow}>
              {t('conn.reconnectNow')}
            </button>
          )}
        </>
      )}
    </div>
  );
}
