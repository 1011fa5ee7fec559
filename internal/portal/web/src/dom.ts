// DOM helpers. The page never builds markup from strings (the CSP's
// Trusted Types rule would refuse it): every node is created here and
// every text from the chain goes in as text.

export type Child = Node | string | number | null | undefined | false;
type Handler = (e: Event) => void;
export type Attrs = Record<string, string | number | boolean | Handler | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...kids: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, ...kids);
  return el;
}

export function append(el: Element, ...kids: Child[]): void {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    el.append(typeof k === "number" ? String(k) : k);
  }
}

export function replace(el: Element, ...kids: Child[]): void {
  el.replaceChildren();
  append(el, ...kids);
}

// Status is a form's message line, read out by screen readers.
export class Status {
  readonly el = h("p", { class: "status", role: "status", "aria-live": "polite" });
  ok(text: string, ...more: Child[]): void {
    this.set("ok", text, ...more);
  }
  error(text: string): void {
    this.set("error", text);
  }
  busy(text: string): void {
    this.set("busy", text);
  }
  clear(): void {
    this.set("", "");
  }
  private set(kind: string, text: string, ...more: Child[]): void {
    this.el.className = "status " + kind;
    replace(this.el, text, ...more);
  }
}

// field is a labelled input; the label's for= ties them for screen readers.
export function field(label: string, input: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, hint?: string): HTMLElement {
  // Ids come from the control's name, unique per page, so two forms with
  // an "Amount" each still label their own inputs.
  if (!input.id) input.id = "f-" + (input.name || label).toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const kids: Child[] = [h("label", { for: input.id }, label), input];
  if (hint) {
    const hintID = input.id + "-hint";
    input.setAttribute("aria-describedby", hintID);
    kids.push(h("small", { id: hintID, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, ...kids);
}

// form wraps fields in a <form> whose submit runs fn once at a time; an
// error thrown by fn is shown in status, and nothing else happens.
export function form(status: Status, fn: () => Promise<void>, ...kids: Child[]): HTMLFormElement {
  const f = h("form", { novalidate: true }, ...kids, status.el);
  let running = false;
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    if (running) return;
    running = true;
    const buttons = f.querySelectorAll("button");
    buttons.forEach((b) => (b.disabled = true));
    fn()
      .catch((err: unknown) => status.error(err instanceof Error ? err.message : String(err)))
      .finally(() => {
        running = false;
        buttons.forEach((b) => (b.disabled = false));
      });
  });
  return f;
}

export function shortHex(s: string): string {
  return s.length > 16 ? s.slice(0, 8) + "…" + s.slice(-6) : s;
}
