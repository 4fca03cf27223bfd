// The player's control icons: small inline SVGs drawn in the current text colour (no icon
// font, no emoji: they vary by system). DOM only, no state.

export type IconName = 'play' | 'pause' | 'muted' | 'sound' | 'fullscreen';

const ICON_PATHS: Record<IconName, { fill?: string; stroke?: string }> = {
  play: { fill: 'M8 5 19 12 8 19Z' },
  pause: { fill: 'M7 5H10V19H7ZM14 5H17V19H14Z' },
  muted: { fill: 'M3 9H7L12 4V20L7 15H3Z', stroke: 'M15.5 9.5 20.5 14.5M20.5 9.5 15.5 14.5' },
  sound: { fill: 'M3 9H7L12 4V20L7 15H3Z', stroke: 'M15.5 8.5A5 5 0 0 1 15.5 15.5M18 6A8.5 8.5 0 0 1 18 18' },
  fullscreen: { stroke: 'M4 9V4H9M15 4H20V9M20 15V20H15M9 20H4V15' },
};

/** A 20 px icon. */
export function icon(name: IconName): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '20');
  svg.setAttribute('height', '20');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'mtv-icon');
  const { fill, stroke } = ICON_PATHS[name];
  if (fill !== undefined) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', fill);
    p.setAttribute('fill', 'currentColor');
    svg.append(p);
  }
  if (stroke !== undefined) {
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', stroke);
    p.setAttribute('fill', 'none');
    p.setAttribute('stroke', 'currentColor');
    p.setAttribute('stroke-width', '2');
    p.setAttribute('stroke-linecap', 'round');
    svg.append(p);
  }
  return svg;
}
