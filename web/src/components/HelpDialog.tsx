import { useT } from '../i18n';
import type { Key } from '../i18n';
import { Modal } from './Modal';

/** `or`: the keys are alternatives (↑ / ↓), not pressed together. */
const SHORTCUTS: Array<{ keys: string[]; what: Key; or?: boolean }> = [
  { keys: ['?'], what: 'help.showHelp' },
  { keys: ['Esc'], what: 'help.escape' },
  { keys: ['Alt', '↑'], what: 'help.prevRoom' },
  { keys: ['Alt', '↓'], what: 'help.nextRoom' },
  { keys: ['↑'], what: 'help.editLast' },
  { keys: ['Enter'], what: 'help.send' },
  { keys: ['Shift', 'Enter'], what: 'help.newLine' },
  { keys: ['@'], what: 'help.mention' },
  { keys: ['Tab'], what: 'help.messages' },
  { keys: ['↑', '↓'], what: 'help.moveMessages', or: true },
  { keys: ['Home', 'End'], what: 'help.firstLast', or: true },
  { keys: ['E'], what: 'help.editFocused' },
  { keys: ['R'], what: 'help.reactFocused' },
  { keys: ['C'], what: 'help.copyFocused' },
  { keys: ['Delete'], what: 'help.deleteFocused' },
];

/** Every keyboard shortcut, in words. */
export function HelpDialog({ onClose }: { onClose: () => void }) {
  const t = useT();
  return (
    <Modal title={t('help.title')} onClose={onClose}>
      <table class="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.what}>
              <th scope="row">
                {s.keys.map((k, i) => (
                  <span key={k}>
                    {i > 0 && (s.or ? ' / ' : ' + ')}
                    <kbd>{k}</kbd>
                  </span>
                ))}
              </th>
              <td>{t(s.what)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="form-actions">
        <button type="button" class="primary" data-autofocus onClick={onClose}>
          {t('common.close')}
        </button>
      </div>
    </Modal>
  );
}
