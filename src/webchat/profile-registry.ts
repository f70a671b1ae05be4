import type { ProfileInfo } from '../protocol/http';
import { DEMO_PROFILE, type RuntimeProfile } from './runtime-profile';
import { WebchatError } from './webchat-error';

/** The profiles a server offers, one of them the default (D14: `demo` unless configured). */
export class ProfileRegistry {
  private readonly bySlug = new Map<string, RuntimeProfile>();

  constructor(profiles: RuntimeProfile[] = [DEMO_PROFILE], readonly defaultSlug: string = profiles[0]?.slug ?? 'demo') {
    for (const p of profiles) this.bySlug.set(p.slug, p);
    if (!this.bySlug.has(defaultSlug)) throw new Error(`default profile "${defaultSlug}" is not defined`);
  }

  get default(): RuntimeProfile {
    return this.bySlug.get(this.defaultSlug)!;
  }

  get(slug: string): RuntimeProfile | undefined {
    return this.bySlug.get(slug);
  }

  require(slug: string | null | undefined): RuntimeProfile {
    const p = this.bySlug.get(slug ?? this.defaultSlug);
    if (!p) throw new WebchatError('unknown_profile', `no profile "${slug}"`, { slug, known: [...this.bySlug.keys()] });
    return p;
  }

  /** The public list (never a secret: only provider and model). */
  list(): ProfileInfo[] {
    return [...this.bySlug.values()]
      .sort((a, b) => a.slug.localeCompare(b.slug))
      .map((p) => ({
        slug: p.slug, display_name: p.displayName, description: p.description, provider: p.provider, model: p.model,
        offline: p.provider === 'demo', is_default: p.slug === this.defaultSlug,
      }));
  }
}
