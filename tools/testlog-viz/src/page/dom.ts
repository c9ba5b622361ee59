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

/** The band colour of each group of a split network, in group order. */
const GROUP_COLOURS = ["#3a7bd5", "#d5843a", "#8e44ad", "#16a085", "#c0392b", "#7f8c8d"];
export const groupColour = (group: number): string => GROUP_COLOURS[group % GROUP_COLOURS.length]!;

/** The tint of log entries of a term: neighbouring terms always differ. */
const TERM_TINTS = [
  "#e8e8e8",
  "#9fc5f8",
  "#f9cb9c",
  "#b6d7a8",
  "#d5a6bd",
  "#ffe599",
  "#a2c4c9",
  "#dd9999",
];
export const termTint = (term: number): string => TERM_TINTS[term % TERM_TINTS.length]!;

const SVG_NS = "http://www.w3.org/2000/svg";

/** A new SVG element with a class and attributes. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  className = "",
  attributes: Record<string, string | number> = {},
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  if (className !== "") element.setAttribute("class", className);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

/** Sets SVG attributes, leaving alone those that already hold the value (a frame sets many). */
export function attrs(element: Element, attributes: Record<string, string | number>): void {
  for (const [name, value] of Object.entries(attributes)) {
    const text = String(value);
    if (element.getAttribute(name) !== text) element.setAttribute(name, text);
  }
}
