// Channel names as the directory compares them: two names that look alike on screen are "the
// same name" for the warning the listing carries, whatever code points spell them.

import { rectifyConfusion } from 'unicode-confusables';

/**
 * The skeleton of a name (Unicode TR39, section 4): compatibility forms folded (NFKC, so
 * full-width and mathematical letters become plain ones), invisible characters dropped, every
 * character replaced by the prototype it is confusable with, case ignored. For comparing only,
 * never for display.
 */
export function nameSkeleton(name: string): string {
  const visible = name.normalize('NFKC').replace(/[\p{Default_Ignorable_Code_Point}\p{Cc}]/gu, '');
  return rectifyConfusion(visible.normalize('NFD')).normalize('NFD').toLowerCase().replace(/\s+/g, ' ').trim();
}
