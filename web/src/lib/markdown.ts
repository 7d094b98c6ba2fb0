import { Marked } from 'marked';
import DOMPurify from 'dompurify';

// One Marked instance with GitHub-flavoured tables; raw HTML in the report is
// left to DOMPurify, which is the only gate to innerHTML in this client.
const marked = new Marked({ gfm: true, breaks: false, async: false });

/** Markdown → sanitized HTML string, safe for dangerouslySetInnerHTML. */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe'],
    FORBID_ATTR: ['style'],
  });
}
