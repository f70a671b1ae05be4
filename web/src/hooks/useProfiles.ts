import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { ProfileInfo } from '../protocol';

/**
 * Profiles (`GET /api/chat/profiles`) and the selected slug: the server's cookie choice
 * (`GET /api/chat/profile`) if listed, else the default. Choosing one also sets the cookie.
 */
export function useProfiles(): { profiles: ProfileInfo[]; selected: string | null; select: (slug: string) => void } {
  const [profiles, setProfiles] = useState<ProfileInfo[]>([]);
  const [selected, setSelected] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    Promise.all([api.profiles(), api.selectedProfile().catch(() => ({ slug: undefined }))]).then(
      ([list, cur]) => {
        if (!live) return;
        setProfiles(list);
        const pick = list.find((p) => p.slug === cur.slug) ?? list.find((p) => p.is_default) ?? list[0];
        setSelected((s) => s ?? pick?.slug ?? null);
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, []);

  const select = useCallback((slug: string) => {
    setSelected(slug);
    api.selectProfile(slug).catch(() => undefined);
  }, []);
  return { profiles, selected, select };
}
