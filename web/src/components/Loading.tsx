/**
 * The one spinner with words, announced politely. A page or panel waiting for
 * its data shows this; `inline` is the quieter form used inside a list or a
 * dialog, and `className` places it where a screen needs it (the sidebar).
 */
export function Loading({ text, inline = false, className }: { text: string; inline?: boolean; className?: string }) {
  return (
    <p class={className ?? (inline ? 'loading-inline' : 'loading')} role="status">
      <span class="spinner" aria-hidden="true" />
      {text}
    </p>
  );
}
