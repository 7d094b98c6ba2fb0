import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { useT } from '../i18n';
import { capitalize, errorMessage } from '../lib/format';

/** An error paragraph that screen readers announce; nothing when there is no error. */
export function ErrorAlert({ error }: { error: string | null | undefined }) {
  return error ? (
    <p class="error" role="alert">
      {error}
    </p>
  ) : null;
}

/** A dialog form's footer: a Cancel (or Close) button, then the given buttons. */
export function FormActions({
  onCancel,
  cancelLabel,
  children,
}: {
  onCancel: () => void;
  cancelLabel?: string;
  children?: ComponentChildren;
}) {
  const t = useT();
  return (
    <div class="form-actions">
      <button type="button" onClick={onCancel}>
        {cancelLabel ?? t('common.cancel')}
      </button>
      {children}
    </div>
  );
}

/** One <option> per choice, labelled by `format` (capitalized by default). */
export function choiceOptions<T extends string>(choices: readonly T[], format: (v: T) => string = capitalize) {
  return choices.map((c) => (
    <option key={c} value={c}>
      {format(c)}
    </option>
  ));
}

/** A labelled <select> over a fixed list of choices; `children` go before them. */
export function SelectField<T extends string>({
  label,
  value,
  choices,
  onChange,
  disabled,
  format,
  children,
}: {
  label: string;
  value: T;
  choices: readonly T[];
  onChange: (value: T) => void;
  disabled?: boolean;
  format?: (v: T) => string;
  children?: ComponentChildren;
}) {
  return (
    <label>
      {label}
      <select disabled={disabled} value={value} onChange={(e) => onChange(e.currentTarget.value as T)}>
        {children}
        {choiceOptions(choices, format)}
      </select>
    </label>
  );
}

/**
 * For a dialog's submit: `run` marks it busy and clears the error; if the
 * action fails it shows the error and frees the button again. (On success it
 * stays busy: the dialog is about to close.)
 */
export function useBusyAction() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return { busy, error, run };
}
