import { Marked } from 'marked';
import DOMPurify from 'dompurify';

// One Marked instance with GitHub-flavoured tables; raw HTML in the report is
// left to DOMPurify, which is the only gate to innerHTML in this client.
const marked = new Marked({ gfm: true, breaks: false, async: false });

const PURIFY = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: ['style', 'form', 'input', 'button', 'iframe'],
  FORBID_ATTR: ['style'],
};

/** Markdown → sanitized HTML string, safe for dangerouslySetInnerHTML. */
export function renderMarkdown(markdown: string): string {
  const html = marked.parse(markdown) as string;
  return DOMPurify.sanitize(html, PURIFY);
}

/**
 * An attachment of this system, as a report may link it: the API path of a
 * room's file (`/api/rooms/{id}/files/{file_id}`), relative or on `apiBase`.
 * Returns the path to resolve, or null for anything else.
 */
export function ownFilePath(src: string, apiBase: string, origin: string): string | null {
  let url: URL;
  try {
    url = new URL(src, origin);
  } catch {
    return null;
  }
  const bases = new Set([origin, apiBase ? new URL(apiBase, origin).origin : origin]);
  if (!bases.has(url.origin)) return null;
  return /^\/api\/rooms\/[0-9a-fA-F-]{36}\/files\/[0-9a-fA-F-]{36}$/.test(url.pathname) ? url.pathname : null;
}

/**
 * The report as HTML where nothing reaches outside: a link is shown as its
 * text followed by its address (not clickable), and an image loads only when
 * it is one of this system's attachments (marked `data-file` for the caller to
 * resolve to a short-lived URL); any other image is shown as text.
 */
export function renderReport(markdown: string, isOwnFile: (src: string) => string | null): string {
  const html = renderMarkdown(markdown);
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html');
  for (const a of Array.from(doc.querySelectorAll('a'))) {
    const href = a.getAttribute('href') ?? '';
    const label = a.textContent ?? '';
    const span = doc.createElement('span');
    span.className = 'report-link';
    // (an address marked turned into a mailto: link is already its own text)
    const same = href === label || href === `mailto:${label}`;
    span.textContent = href && !same ? `${label} (${href})` : label;
    a.replaceWith(span);
  }
  for (const img of Array.from(doc.querySelectorAll('img'))) {
    const src = img.getAttribute('src') ?? '';
    const own = isOwnFile(src);
    if (own) {
      img.removeAttribute('src');
      img.setAttribute('data-file', own);
      continue;
    }
    const span = doc.createElement('span');
    span.className = 'report-image-text';
    const alt = img.getAttribute('alt') ?? '';
    span.textContent = `[${alt || 'image'}] (${src})`;
    img.replaceWith(span);
  }
  return DOMPurify.sanitize(doc.body.innerHTML, PURIFY);
}

/**
 * The report as saved or copied: a room file's API path (an image in the
 * preview) becomes a link to the app's file route (`#/rooms/{id}/files/{fid}`),
 * which works from the .md for any signed-in member, where the API path needs
 * a token and a presigned address expires in minutes.
 */
export function portableReport(markdown: string, appUrl: string): string {
  const path = /(!?)\[((?:\\.|[^\]\\])*)\]\(\/api\/rooms\/([0-9a-fA-F-]{36})\/files\/([0-9a-fA-F-]{36})\)/g;
  return markdown.replace(path, (_whole, _bang: string, label: string, room: string, file: string) => {
    return `[${label}](${appUrl}#/rooms/${room}/files/${file})`;
  });
}
