import { useEffect, useRef, useState } from 'preact/hooks';
import { LOCALES, currentLocale, useT } from '../i18n';
import type { Key, Locale } from '../i18n';
import type { Me } from '../protocol';
import { initials } from './Login';

const LANGUAGE_NAMES: Record<Locale, Key> = { en: 'lang.en', 'zh-TW': 'lang.zhTW' };

/** The signed-in person: language, keyboard help, sign out. */
export function UserMenu({
  me,
  signOut,
  changeLocale,
  openHelp,
}: {
  me: Me;
  signOut: () => void;
  changeLocale: (l: Locale) => void;
  openHelp: () => void;
}) {
  const t = useT();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    root.current?.querySelector<HTMLElement>('[role^="menuitem"]')?.focus();
    const away = (ev: Event): void => {
      if (root.current && !root.current.contains(ev.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', away);
    return () => document.removeEventListener('pointerdown', away);
  }, [open]);

  const close = (): void => {
    setOpen(false);
    button.current?.focus();
  };

  const onKeyDown = (ev: KeyboardEvent): void => {
    const items = Array.from(root.current?.querySelectorAll<HTMLElement>('[role^="menuitem"]') ?? []);
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (ev.key === 'Escape') {
      ev.preventDefault();
      ev.stopPropagation();
      close();
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const next = (at + (ev.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
      items[next]?.focus();
    } else if (ev.key === 'Tab') {
      setOpen(false);
    }
  };

  return (
    <div class="me" ref={root} onKeyDown={onKeyDown}>
      <button
        ref={button}
        type="button"
        class="me-button"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-label={t('menu.label', { name: me.display_name })}
        onClick={() => setOpen((o) => !o)}
      >
        <span class="avatar" aria-hidden="true">
          {initials(me.display_name)}
        </span>
        <span class="me-name">{me.display_name}</span>
      </button>
      {open && (
        <div class="menu" role="menu" aria-label={t('menu.title')}>
          <div class="menu-group" role="group" aria-label={t('menu.language')}>
            {LOCALES.map((l) => (
              <button
                key={l}
                type="button"
                role="menuitemradio"
                aria-checked={currentLocale() === l}
                lang={l}
                onClick={() => {
                  changeLocale(l);
                  close();
                }}
              >
                {t(LANGUAGE_NAMES[l])}
              </button>
            ))}
          </div>
          <button
            type="button"
            role="menuitem"
            onClick={() => {
              setOpen(false);
              openHelp();
            }}
          >
            {t('menu.shortcuts')}
          </button>
          <button type="button" role="menuitem" onClick={signOut}>
            {t('menu.signOut')}
          </button>
        </div>
      )}
    </div>
  );
}
