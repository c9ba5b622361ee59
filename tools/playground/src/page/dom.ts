// Small DOM helpers for the page's script.

/** The element with this id, of this type; the page's own markup has it, so a miss is a bug. */
export function byId<T extends Element>(id: string, type: abstract new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`the page has no ${type.name} #${id}`);
  return element;
}

export const button = (id: string) => byId(id, HTMLButtonElement);
export const select = (id: string) => byId(id, HTMLSelectElement);
export const input = (id: string) => byId(id, HTMLInputElement);
export const form = (id: string) => byId(id, HTMLFormElement);

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

export function option(value: string, label: string, title?: string): HTMLOptionElement {
  const o = new Option(label, value);
  if (title !== undefined) o.title = title;
  return o;
}

/** Submitting the form runs `run` (and never reloads the page). */
export function onSubmit(id: string, run: () => void): void {
  form(id).addEventListener("submit", (e) => {
    e.preventDefault();
    run();
  });
}
