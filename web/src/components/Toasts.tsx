import { useT } from '../i18n';
import { Icon } from './Icon';

export interface Toast {
  id: string;
  roomId: string;
  messageId: string;
  title: string;
  body: string;
}

/** In-page alerts for mentions in other rooms; a click opens the room at the message. */
export function Toasts({
  toasts,
  onOpen,
  onDismiss,
}: {
  toasts: Toast[];
  onOpen: (t: Toast) => void;
  onDismiss: (id: string) => void;
}) {
  const t = useT();
  return (
    <div class="toasts" role="region" aria-label={t('toast.region')} aria-live="polite">
      {toasts.map((toast) => (
        <div class="toast" key={toast.id} data-room-id-toast={toast.roomId}>
          <button type="button" class="toast-open" onClick={() => onOpen(toast)}>
            <strong>{toast.title}</strong>
            <span>{toast.body}</span>
          </button>
          <button
            type="button"
            class="icon-button toast-close"
            aria-label={t('common.dismiss')}
            onClick={() => onDismiss(toast.id)}
          >
            <Icon name="close" size={16} />
          </button>
        </div>
      ))}
    </div>
  );
}
