// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { ownFilePath, portableReport, renderMarkdown, renderReport } from '../src/lib/markdown';

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


describe('renderReport (issue 10, item 5)', () => {
  const origin = 'https://warroom.example';
  const own = (src: string) => ownFilePath(src, '', origin);
  const fileUrl = '/api/rooms/11111111-2222-3333-4444-555555555555/files/66666666-7777-8888-9999-000000000000';

  it('shows links as text with their address, never as live links', () => {
    const html = renderReport('[Download the fix](https://evil.example/fix.exe)', own);
    expect(html).not.toContain('<a');
    expect(html).toContain('Download the fix (https://evil.example/fix.exe)');
  });

  it('loads no outside image, and marks our own attachment for resolving', () => {
    const html = renderReport(`![](https://attacker.example/x.png)\n\n![photo](${fileUrl})`, own);
    expect(html).not.toContain('attacker.example/x.png"');
    expect(html).toContain('[image] (https://attacker.example/x.png)');
    expect(html).toMatch(new RegExp(`<img[^>]*data-file="${fileUrl}"`));
    expect(html).not.toMatch(/<img[^>]*src=/);
  });

  it('does not take another origin for ours', () => {
    expect(ownFilePath(`https://attacker.example${fileUrl}`, '', origin)).toBeNull();
    expect(ownFilePath(`${origin}${fileUrl}`, '', origin)).toBe(fileUrl);
  });
});

describe('renderReport addresses', () => {
  it('shows an e-mail address once, not with its mailto: link', () => {
    const html = renderReport('- Alice (alice@factory.example) — OWNER', () => null);
    expect(html).toContain('alice@factory.example');
    expect(html).not.toContain('mailto:');
  });
});

describe('portableReport (issue 16: links that work in the saved .md)', () => {
  const room = '11111111-2222-3333-4444-555555555555';
  const file = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  it("turns a room file's image and link into the app's file route", () => {
    // Given a report with a photo and a file as the server writes them (brackets escaped)
    const md = `![主軸 \\[1\\].jpg](/api/rooms/${room}/files/${file})\n- [log.csv](/api/rooms/${room}/files/${file}) (text/csv)`;
    // When it is made portable for the app at https://warroom.example/
    const out = portableReport(md, 'https://warroom.example/');
    // Then both are links to the app's route for that file, labels kept
    expect(out).toBe(
      `[主軸 \\[1\\].jpg](https://warroom.example/#/rooms/${room}/files/${file})\n` +
        `- [log.csv](https://warroom.example/#/rooms/${room}/files/${file}) (text/csv)`,
    );
  });

  it('leaves other links alone', () => {
    const md = '[x](https://elsewhere.example/a) ![y](/api/rooms/nope/files/nope)';
    expect(portableReport(md, 'https://warroom.example/')).toBe(md);
  });
});
