// The newest verified guide and logo of each channel, in bounded memory: past each total, those
// of channels without peers go first, then the oldest. The caller has checked the signatures;
// this only keeps, replaces (never with an older one) and summarises.

import type { ChannelSummary, ProgrammeSummary } from '../api/tracker-api.js';
import { type ChannelGuide, nowAndNext, type Programme, type SignedChannelGuide } from '../protocol/guide.js';

/** All guides together stay under this (a guide is at most MAX_GUIDE_BYTES). */
export const MAX_GUIDE_TOTAL_BYTES = 32 * 1024 * 1024;
/** All logos together stay under this (a logo is at most MAX_LOGO_BYTES). */
export const MAX_LOGO_TOTAL_BYTES = 16 * 1024 * 1024;

interface Held {
  issuedAtMs: number;
  bytes: number;
}

interface HeldGuide extends Held {
  signed: SignedChannelGuide;
}

interface HeldLogo extends Held {
  image: Uint8Array;
  type: string;
}

/** What a channel's guide and logo add to its entry in the directory. */
export type GuideSummary = Pick<ChannelSummary, 'category' | 'language' | 'description' | 'now' | 'next' | 'hasLogo'>;

export class GuideStore {
  private readonly guides = new Map<string, HeldGuide>();
  private readonly logos = new Map<string, HeldLogo>();

  constructor(
    /** Whether a channel has peers now: those without lose their guide and logo first. */
    private readonly hasPeers: (channelId: string) => boolean,
    private readonly limits = { guideBytes: MAX_GUIDE_TOTAL_BYTES, logoBytes: MAX_LOGO_TOTAL_BYTES },
  ) {}

  /** Keeps a verified guide of `size` bytes; false when a newer one is held. */
  putGuide(signed: SignedChannelGuide, size: number): boolean {
    const id = signed.guide.channelId;
    if ((this.guides.get(id)?.issuedAtMs ?? -Infinity) > signed.guide.issuedAtMs) return false;
    this.guides.set(id, { issuedAtMs: signed.guide.issuedAtMs, bytes: size, signed });
    this.bound(this.guides, id, this.limits.guideBytes);
    return true;
  }

  /** Keeps a verified logo; false when a newer one is held. */
  putLogo(channelId: string, issuedAtMs: number, image: Uint8Array, type: string): boolean {
    if ((this.logos.get(channelId)?.issuedAtMs ?? -Infinity) > issuedAtMs) return false;
    this.logos.set(channelId, { issuedAtMs, bytes: image.length, image, type });
    this.bound(this.logos, channelId, this.limits.logoBytes);
    return true;
  }

  signedGuide(channelId: string): SignedChannelGuide | undefined {
    return this.guides.get(channelId)?.signed;
  }

  guide(channelId: string): ChannelGuide | undefined {
    return this.guides.get(channelId)?.signed.guide;
  }

  logo(channelId: string): { image: Uint8Array; type: string } | undefined {
    return this.logos.get(channelId);
  }

  delete(channelId: string): void {
    this.guides.delete(channelId);
    this.logos.delete(channelId);
  }

  /** Bytes held, for tests and monitoring. */
  totals(): { guideBytes: number; logoBytes: number; guides: number; logos: number } {
    const sum = (m: Map<string, Held>) => [...m.values()].reduce((n, h) => n + h.bytes, 0);
    return { guideBytes: sum(this.guides), logoBytes: sum(this.logos), guides: this.guides.size, logos: this.logos.size };
  }

  /** What a channel listing shows of the guide at `nowMs`. */
  summary(channelId: string, nowMs: number): GuideSummary {
    const g = this.guides.get(channelId)?.signed.guide;
    const out: GuideSummary = this.logos.has(channelId) ? { hasLogo: true } : {};
    if (g === undefined) return out;
    const { now, next } = nowAndNext(g.programmes, nowMs);
    return {
      ...out,
      ...(g.category !== undefined ? { category: g.category } : {}),
      ...(g.language !== undefined ? { language: g.language } : {}),
      ...(g.description !== undefined ? { description: g.description } : {}),
      ...(now !== undefined ? { now: brief(now) } : {}),
      ...(next !== undefined ? { next: brief(next) } : {}),
    };
  }

  /** Past `maxBytes`, drops others' entries: of channels without peers first, then the oldest. */
  private bound<T extends Held>(held: Map<string, T>, keep: string, maxBytes: number): void {
    let total = 0;
    for (const h of held.values()) total += h.bytes;
    if (total <= maxBytes) return;
    const order = [...held].sort((x, y) => Number(this.hasPeers(x[0])) - Number(this.hasPeers(y[0])) || x[1].issuedAtMs - y[1].issuedAtMs);
    for (const [id, h] of order) {
      if (total <= maxBytes) break;
      if (id === keep) continue;
      held.delete(id);
      total -= h.bytes;
    }
  }
}

function brief(p: Programme): ProgrammeSummary {
  return { title: p.title, start: p.startMs, stop: p.stopMs };
}
