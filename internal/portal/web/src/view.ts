// Small views shared by the explorer pages.

import type { Event } from "./api";
import { fromBase64 } from "./bytes";
import { h, shortHex, type Child } from "./dom";

export function link(href: string, ...kids: Child[]): HTMLAnchorElement {
  return h("a", { href, "data-link": true }, ...kids);
}

export function addr(a: string): HTMLElement {
  return link(`/accounts/${a}`, h("code", { title: a }, shortHex(a)));
}

export function when(rfc3339: string): HTMLElement {
  const d = new Date(rfc3339);
  return h("time", { datetime: rfc3339, title: rfc3339 }, d.toLocaleTimeString());
}

export function rows(pairs: [string, Child][]): HTMLElement {
  return h("dl", {}, ...pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

const isAddr = /^[0-9a-f]{40}$/;
const isID = /^[0-9a-f]{64}$/;

// attr shows an event attribute, linking what it can: addresses to their
// account, request ids to their result, contracts to the pool.
export function attr(type: string, key: string, v: string): Child {
  if (isAddr.test(v)) return addr(v);
  if (isID.test(v) && (key === "id" || key === "request")) return link(`/results/${v}`, h("code", { title: v }, shortHex(v)));
  if (key === "contract" || (type === "deploy" && key === "name")) return link(`/contracts/${v.split("@")[0]}`, v);
  return v;
}

export function eventsTable(evs: Event[] | null | undefined): Node {
  if (!evs?.length) return h("p", { class: "muted" }, "No events.");
  return h(
    "table",
    { class: "events" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Event"), h("th", { scope: "col" }, "Attributes"))),
    h("tbody", {}, ...evs.map((e) => h("tr", {}, h("td", {}, e.type),
      h("td", {}, ...Object.entries(e.attributes ?? {}).map(([k, v]) => h("span", { class: "kv" }, k, "=", attr(e.type, k, v))))))),
  );
}

export function table(caption: string, head: string[], body: Child[][]): HTMLElement {
  return h(
    "table",
    {},
    h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...head.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, ...body.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
  );
}

export function decodeB64(s: string | null | undefined): string {
  return new TextDecoder().decode(fromBase64(s ?? ""));
}

// pretty shows text as indented JSON when it is JSON.
export function pretty(text: string): HTMLElement {
  let out = text;
  try {
    out = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: as is
  }
  return h("pre", { class: "out" }, out);
}
