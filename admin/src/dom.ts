/** A few helpers to build the page from elements: no innerHTML, so no markup injection. */

export type Child = Node | string | number | null | undefined | false;
type AttrValue = string | number | boolean | null | undefined;
type Handler = (event: Event) => void;
export type Attrs = Record<string, AttrValue | Handler>;

/** `h('button', { type: 'button', onclick }, 'Save')`: attributes, `on*` listeners, children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value !== null && value !== undefined && value !== false) {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Element, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

export function replaceChildren(parent: Element, ...children: (Child | Child[])[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page has no #${id}`);
  return element as T;
}

/** Times in UTC, unambiguous for staff in any time zone: 2026-11-25 09:05 UTC. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const text = date.toISOString();
  return `${text.slice(0, 10)} ${text.slice(11, 16)} UTC`;
}

export function time(iso: string): HTMLTimeElement {
  return h('time', { datetime: iso }, formatTime(iso));
}

export function statusBadge(status: string, attrs: Attrs = {}): HTMLSpanElement {
  const label = status === 'disabled' ? 'Disabled' : status === 'enabled' ? 'Enabled' : status;
  return h('span', { class: `badge badge-${status}`, ...attrs }, label);
}

/** A heading that takes focus after navigation, so screen readers start at the new content. */
export function pageHeading(text: string | Child[]): HTMLHeadingElement {
  return h('h1', { tabindex: -1, class: 'page-heading' }, ...(Array.isArray(text) ? text : [text]));
}
