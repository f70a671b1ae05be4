import { useCallback, useEffect, useState } from 'react';
import { CONV_ID_PATTERN } from '../protocol';
import { root } from '../api/client';

/** The page URL is the conversation: `<root>/c/<conv_id>`; `<root>/` is a new chat. */
export function convIdFromPath(pathname: string, prefix: string): string | null {
  const rest = prefix && pathname.startsWith(prefix) ? pathname.slice(prefix.length) : pathname;
  const m = /^\/c\/([^/]+)\/?$/.exec(rest);
  if (!m) return null;
  const id = decodeURIComponent(m[1]!);
  return CONV_ID_PATTERN.test(id) ? id : null;
}

export const pathForConv = (convId: string | null): string => `${root()}/${convId ? `c/${encodeURIComponent(convId)}` : ''}`;

export function useRoute(): { convId: string | null; navigate: (convId: string | null, opts?: { replace?: boolean }) => void } {
  const [convId, setConvId] = useState(() => convIdFromPath(location.pathname, root()));
  useEffect(() => {
    const onPop = () => setConvId(convIdFromPath(location.pathname, root()));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback((id: string | null, opts: { replace?: boolean } = {}) => {
    const path = pathForConv(id);
    if (path !== location.pathname) {
      if (opts.replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    setConvId(id);
  }, []);
  return { convId, navigate };
}
