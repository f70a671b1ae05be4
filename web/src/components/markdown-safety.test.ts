import { describe, expect, it } from 'vitest';
import { remarkHtmlAsText, safeUrl } from './markdown-safety';

describe('safeUrl', () => {
  it('keeps http, https and mailto only', () => {
    expect(safeUrl('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
    expect(safeUrl('http://x.y')).toBe('http://x.y');
    expect(safeUrl('mailto:a@b.c')).toBe('mailto:a@b.c');
    expect(safeUrl('javascript:alert(1)')).toBe('');
    expect(safeUrl(' JaVaScRiPt:alert(1)')).toBe('');
    expect(safeUrl('data:text/html,<script>')).toBe('');
    expect(safeUrl('vbscript:x')).toBe('');
    expect(safeUrl('/relative')).toBe('');
    expect(safeUrl('file:///etc/passwd')).toBe('');
  });
});

describe('remarkHtmlAsText', () => {
  it('turns html nodes into text nodes everywhere', () => {
    const tree = { type: 'root', children: [{ type: 'paragraph', children: [{ type: 'html', value: '<img src=x onerror=alert(1)>' }] }, { type: 'html', value: '<script>x</script>' }] };
    remarkHtmlAsText()(tree);
    expect(JSON.stringify(tree)).not.toContain('"html"');
    expect(tree.children[1]).toEqual({ type: 'text', value: '<script>x</script>' });
  });
});
