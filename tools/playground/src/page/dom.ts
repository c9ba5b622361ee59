// Small DOM helpers for the page's script: testlog-viz's (whose cluster view the page draws
// with), and a few for the page's forms.

import { byId } from "testlog-viz/src/page/dom.ts";

export { byId, el } from "testlog-viz/src/page/dom.ts";

export const button = (id: string) => byId(id, HTMLButtonElement);
export const select = (id: string) => byId(id, HTMLSelectElement);
export const input = (id: string) => byId(id, HTMLInputElement);
export const form = (id: string) => byId(id, HTMLFormElement);

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
