import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef } from 'preact/hooks';
import { useT } from '../i18n';
import { Icon } from './Icon';

let idSeq = 0;

const FOCUSABLE =
  'a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';

interface Props {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  /** wide modals hold reports and tables */
  wide?: boolean;
}

/**
 * The platform's modal `<dialog>`, opened with `showModal()`: the browser gives it
 * the top layer, makes the rest of the page inert (so Tab stays inside), and turns
 * Escape into a close request for the innermost open dialog only. We add what the
 * platform leaves to the page: focus starts on the content rather than the close
 * button, a click on the backdrop closes, and focus goes back to the opener.
 *
 * The parent owns whether the dialog exists: every way of closing (Escape, the close
 * button, the backdrop) calls `onClose`, and the parent unmounts it.
 */
export function Modal({ title, onClose, children, wide }: Props) {
  const t = useT();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef(`modal-title-${++idSeq}`).current;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  // A layout effect: the dialog is open in the same frame it is mounted in.
  useLayoutEffect(() => {
    const dialog = ref.current!;
    const opener = document.activeElement as HTMLElement | null;
    let unmounted = false;
    if (!dialog.open) dialog.showModal();
    // Start on the content, not on the close button in the header.
    const first =
      dialog.querySelector<HTMLElement>('[data-autofocus]') ??
      dialog.querySelector('.modal-body')?.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? dialog).focus();

    // Escape is a close request: let the parent decide (it unmounts us). Chromium may
    // refuse to let a close request be cancelled (no user activation since the last
    // one) and close the dialog itself: the `close` event then tells the parent.
    const onCancel = (ev: Event): void => {
      ev.preventDefault();
      closeRef.current();
    };
    const onNativeClose = (): void => {
      if (!unmounted) closeRef.current();
    };
    // Focus that falls out of the dialog (its control re-rendered away) comes back to it,
    // so keys still reach the dialog and Tab still starts inside it.
    const onFocusOut = (ev: FocusEvent): void => {
      if (ev.relatedTarget) return;
      setTimeout(() => {
        const active = document.activeElement;
        if (dialog.open && (!active || active === document.body)) dialog.focus();
      }, 0);
    };
    dialog.addEventListener('cancel', onCancel);
    dialog.addEventListener('close', onNativeClose);
    dialog.addEventListener('focusout', onFocusOut);
    return () => {
      unmounted = true;
      dialog.removeEventListener('cancel', onCancel);
      dialog.removeEventListener('close', onNativeClose);
      dialog.removeEventListener('focusout', onFocusOut);
      if (dialog.open) dialog.close();
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      class={`modal${wide ? ' modal-wide' : ''}`}
      aria-labelledby={titleId}
      tabIndex={-1}
      // The dialog's own box is covered by its content, so a press whose target is the
      // dialog itself landed on the ::backdrop. Its default action is cancelled: it would
      // otherwise focus whatever lies under the pointer once we are gone, not the opener.
      onMouseDown={(ev) => {
        if (ev.target !== ev.currentTarget) return;
        ev.preventDefault();
        closeRef.current();
      }}
    >
      <header class="modal-header">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-button" aria-label={t('common.close')} onClick={onClose}>
          <Icon name="close" />
        </button>
      </header>
      <div class="modal-body">{children}</div>
    </dialog>
  );
}
