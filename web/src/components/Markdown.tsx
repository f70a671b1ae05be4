import { memo, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import { CodeBlock } from './CodeBlock';
import { remarkHtmlAsText, safeUrl } from './markdown-safety';

const textOf = (node: ReactNode): string => {
  if (node === null || node === undefined || typeof node === 'boolean') return '';
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (typeof node === 'object' && 'props' in node) return textOf((node.props as { children?: ReactNode }).children);
  return '';
};

const components: Components = {
  a: ({ href, children }) => {
    const url = href ? safeUrl(href) : '';
    if (!url) return <span className="md-inert-link">{children}</span>;
    return (
      <a href={url} target="_blank" rel="noopener noreferrer">
        {children}
      </a>
    );
  },
  // Images are not loaded (no tracking pixels from model output): a link to them instead.
  img: ({ src, alt }) => {
    const url = typeof src === 'string' ? safeUrl(src) : '';
    const label = `🖼 ${alt || 'image'}`;
    return url ? (
      <a href={url} target="_blank" rel="noopener noreferrer">
        {label}
      </a>
    ) : (
      <span>{label}</span>
    );
  },
  pre: ({ children }) => {
    const code = Array.isArray(children) ? children[0] : children;
    const className = (code && typeof code === 'object' && 'props' in code ? (code.props as { className?: string }).className : '') ?? '';
    const lang = /language-([\w+-]+)/.exec(className)?.[1] ?? '';
    return <CodeBlock code={textOf(children).replace(/\n$/, '')} lang={lang} />;
  },
};

const remarkPlugins = [remarkHtmlAsText];

/** Sanitized Markdown: no raw HTML (shown as text), safe links only, code blocks with Copy. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="md">
      <ReactMarkdown remarkPlugins={remarkPlugins} components={components} urlTransform={safeUrl} skipHtml={false}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
