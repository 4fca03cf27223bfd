/// <reference lib="dom" />
// A few DOM helpers for the WebTV pages (no framework): build elements, find required ones.

type Props = Record<string, string | number | boolean | undefined>;

/** Creates an element; props are set as properties when the element has them, else as attributes. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key in el && typeof (el as unknown as Record<string, unknown>)[key] !== 'function')
      (el as unknown as Record<string, unknown>)[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  el.append(...children);
  return el;
}

/** The element with this id; throws if the page lacks it (a page/script mismatch, a bug). */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`page has no #${id}`);
  return el as T;
}

/** Sets text only when it changed, so screen readers and layout are not disturbed every second. */
export function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}
