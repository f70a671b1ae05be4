/**
 * Model output is untrusted. react-markdown never renders raw HTML (no rehype-raw); on top of
 * that, HTML in the Markdown is shown as literal text (not silently dropped) and only http(s)
 * and mailto links survive.
 */

interface MdNode {
  type: string;
  value?: string;
  children?: MdNode[];
}

/** remark plugin: raw `html` nodes become `text` nodes, so `<b>` shows as `<b>`. */
export function remarkHtmlAsText() {
  const walk = (node: MdNode): void => {
    if (node.type === 'html') node.type = 'text';
    node.children?.forEach(walk);
  };
  return (tree: MdNode) => walk(tree);
}

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/** The URL if it is an absolute http(s)/mailto URL, else '' (the link is rendered inert). */
export function safeUrl(url: string): string {
  const trimmed = url.trim();
  try {
    const u = new URL(trimmed);
    return SAFE_PROTOCOLS.has(u.protocol) ? trimmed : '';
  } catch {
    return '';
  }
}
