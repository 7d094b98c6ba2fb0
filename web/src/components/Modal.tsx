import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { useT } from '../i18n';
import { Icon } from './Icon';

let openCount = 0;
/** Open dialogs, innermost last: only the innermost answers keys. */
const stack: HTMLElement[] = [];
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
 * A dialog that keeps Tab inside itself, closes on Escape or a click on the
 * backdrop, and gives focus back to whatever opened it.
 */
export function Modal({ title, onClose, children, wide }: Props) {
  const t = useT();
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useRef(`modal-title-${++idSeq}`).current;
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    openCount += 1;
    document.body.classList.add('modal-open');
    const dialog = ref.current!;
    // Start on the content, not on the close button in the header.
    const first =
      dialog.querySelector<HTMLElement>('[data-autofocus]') ??
      dialog.querySelector('.modal-body')?.querySelector<HTMLElement>(FOCUSABLE) ??
      dialog.querySelector<HTMLElement>(FOCUSABLE);
    (first ?? dialog).focus();

    stack.push(dialog);
    // Keys are heard at the document, so Escape still closes the dialog when
    // the focused control has just been removed (a member's Remove button).
    const onKey = (ev: KeyboardEvent): void => {
      if (stack[stack.length - 1] !== dialog) return;
      if (ev.key === 'Escape') {
        ev.stopPropagation();
        closeRef.current();
        return;
      }
      if (ev.key !== 'Tab') return;
      const items = Array.from(dialog.querySelectorAll<HTMLElement>(FOCUSABLE)).filter(
        (el) => el.offsetParent !== null || el === document.activeElement,
      );
      if (!items.length) {
        ev.preventDefault();
        return;
      }
      const firstEl = items[0]!;
      const lastEl = items[items.length - 1]!;
      if (ev.shiftKey && (document.activeElement === firstEl || !dialog.contains(document.activeElement))) {
        ev.preventDefault();
        lastEl.focus();
      } else if (!ev.shiftKey && (document.activeElement === lastEl || !dialog.contains(document.activeElement))) {
        ev.preventDefault();
        firstEl.focus();
      }
    };
    // Focus that falls out of the dialog (its control re-rendered away) comes back to it.
    const onFocusOut = (ev: FocusEvent): void => {
      if (ev.relatedTarget) return;
      setTimeout(() => {
        const active = document.activeElement;
        if (stack[stack.length - 1] === dialog && (!active || active === document.body)) dialog.focus();
      }, 0);
    };
    document.addEventListener('keydown', onKey);
    dialog.addEventListener('focusout', onFocusOut);
    return () => {
      document.removeEventListener('keydown', onKey);
      dialog.removeEventListener('focusout', onFocusOut);
      stack.splice(stack.indexOf(dialog), 1);
      openCount -= 1;
      if (!openCount) document.body.classList.remove('modal-open');
      if (opener && document.contains(opener)) opener.focus();
    };
  }, []);

  return (
    <div
      class="modal-backdrop"
      onMouseDown={(ev) => {
        if (ev.target === ev.currentTarget) onClose();
      }}
    >
      <div
        ref={ref}
        class={`modal${wide ? ' modal-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        tabIndex={-1}
      >
        <header class="modal-header">
          <h2 id={titleId}>{title}</h2>
          <button type="button" class="icon-button" aria-label={t('common.close')} onClick={onClose}>
            <Icon name="close" />
          </button>
        </header>
        <div class="modal-body">{children}</div>
      </div>
    </div>
  );
}
