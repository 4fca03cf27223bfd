// Text from outside (channel names, log lines) checked before it is shown.

/**
 * Control and format characters a name may not hold: terminal escapes, bidi overrides that
 * reorder what is shown, invisible characters. Zero-width (non-)joiners stay: emoji sequences
 * and several scripts need them.
 */
export const HIDDEN_CHARACTERS = /(?![\u200c\u200d])[\p{Cc}\p{Cf}\p{Co}\p{Cs}\u2028\u2029]/u;
