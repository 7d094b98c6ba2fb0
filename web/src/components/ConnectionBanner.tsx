import { useEffect, useState } from 'preact/hooks';
import type { ConnState } from '../conn/machine';

interface Props {
  state: ConnState;
  label: string;
  onReconnectNow?: () => void;
}

/** Tells the person, in words, whether what they see is live. */
export function ConnectionBanner({ state, label, onReconnectNow }: Props) {
  const [, tick] = useState(0);
  // Re-render each second while waiting so the countdown moves.
  useEffect(() => {
    if (state.status !== 'backoff') return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [state.status]);

  let kind: 'ok' | 'warn' | 'error' = 'ok';
  let text = '';
  const pending = state.outbox.filter((e) => e.status === 'pending').length;
  switch (state.status) {
    case 'open':
      if (state.syncing) {
        kind = 'warn';
        text = 'Reconnected — catching up…';
      }
      break;
    case 'idle':
    case 'connecting':
      kind = 'warn';
      text = state.attempt ? `${label}: reconnecting…` : `${label}: connecting…`;
      break;
    case 'backoff': {
      kind = 'error';
      const secs = state.retryAt ? Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)) : 0;
      text = `${label}: connection lost. Retrying in ${secs}s.`;
      break;
    }
    case 'stopped':
      kind = 'error';
      text = state.fatal ? `${label}: disconnected — ${state.fatal}` : `${label}: disconnected.`;
      break;
  }
  const visible = text !== '';
  return (
    <div
      class={`conn-banner conn-${kind}${visible ? '' : ' conn-hidden'}`}
      role="status"
      aria-live="polite"
      data-conn-status={state.status}
      data-live={state.status === 'open' && !state.syncing ? 'true' : 'false'}
    >
      {visible && (
        <>
          <span>{text}</span>
          {pending > 0 && <span> {pending} message{pending === 1 ? '' : 's'} waiting to send.</span>}
          {state.status === 'backoff' && onReconnectNow && (
            <button type="button" class="link-button" onClick={onReconnectNow}>
              Reconnect now
            </button>
          )}
        </>
      )}
    </div>
  );
}
