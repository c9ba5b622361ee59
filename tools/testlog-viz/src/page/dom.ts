// Small DOM helpers for the page's script.

/** A new element with a class and, optionally, its text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className !== "") element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

/** The element with this id, of this type; the page's own markup has it, so a miss is a bug. */
export function byId<T extends Element>(id: string, type: abstract new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

/** The element an event happened on, as an Element (events from text nodes come from their parent). */
export function targetOf(event: Event): Element | null {
  const target = event.target;
  if (target instanceof Element) return target;
  return target instanceof Node ? target.parentElement : null;
}

/** Group letters: A for the first group of a split network, B for the second, … */
export const groupLetter = (group: number): string =>
  group < 26 ? String.fromCharCode(65 + group) : `G${group + 1}`;
