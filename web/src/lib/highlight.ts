/**
 * Search highlights arrive as plain text where each matched term sits between
 * U+E000 and U+E001. Splitting on the markers (instead of turning them into
 * HTML) means the rest is rendered as text nodes and can never become markup.
 */

export const HIGHLIGHT_START = '\uE000';
export const HIGHLIGHT_END = '\uE001';

export interface HighlightPart {
  text: string;
  match: boolean;
}

export function splitHighlight(highlight: string): HighlightPart[] {
  const parts: HighlightPart[] = [];
  let inside = false;
  let buf = '';
  const flush = (): void => {
    if (buf) parts.push({ text: buf, match: inside });
    buf = '';
  };
  for (const ch of highlight) {
    if (ch === HIGHLIGHT_START && !inside) {
      flush();
      inside = true;
    } else if (ch === HIGHLIGHT_END && inside) {
      flush();
      inside = false;
    } else if (ch !== HIGHLIGHT_START && ch !== HIGHLIGHT_END) {
      buf += ch; // stray markers are dropped, never shown
    }
  }
  flush();
  return parts;
}
