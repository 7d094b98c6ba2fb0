// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/lib/markdown';

describe('renderMarkdown', () => {
  it('renders headings and tables', () => {
    const html = renderMarkdown('# Report\n\n| a | b |\n|---|---|\n| 1 | 2 |\n');
    expect(html).toContain('<h1>Report</h1>');
    expect(html).toContain('<table>');
  });

  it('strips scripts, handlers and javascript: links', () => {
    const html = renderMarkdown('<img src=x onerror=alert(1)>\n\n<script>alert(2)</script>\n\n[x](javascript:alert(3))');
    expect(html).not.toMatch(/onerror|<script|javascript:/i);
  });
});
