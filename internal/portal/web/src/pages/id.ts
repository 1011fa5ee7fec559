// An ID and its location: where it lives on the chain, as `vm id verify`
// checks it.

import { api, type ID } from "../api";
import { h, shortHex } from "../dom";

// checkIDName applies internal/idchain.ValidName's shape rules; the node
// also refuses reserved names, which it names when asked.
export function checkIDName(name: string): void {
  if (name.length < 3 || name.length > 32) throw new Error("an ID has 3 to 32 characters");
  if (/[^a-z0-9-]/.test(name)) throw new Error("an ID uses only a-z, 0-9 and '-'");
  if (!/^[a-z]/.test(name)) throw new Error("an ID starts with a letter");
  if (name.endsWith("-")) throw new Error("an ID does not end with '-'");
  if (name.includes("--")) throw new Error('an ID has no "--"');
}

function row(label: string, value: string | Node): HTMLElement[] {
  return [h("dt", {}, label), h("dd", {}, value)];
}

// idCard shows an ID, its location and the ways to check it.
export function idCard(id: ID, created?: boolean): HTMLElement {
  const loc = id.location;
  const attrs = Object.entries(id.attrs ?? {});
  const file = JSON.stringify({ id: id.id, owner: id.owner, created: created ?? false, location: loc }, null, 2);
  const download = h("a", { class: "button", download: `${id.id}-location.json` }, "Download location");
  download.setAttribute("href", URL.createObjectURL(new Blob([file], { type: "application/json" })));
  return h(
    "section",
    { class: "card", "aria-labelledby": "id-title", "data-id": id.id },
    h("h2", { id: "id-title" }, id.id, created === undefined ? "" : created ? " — created" : " — already exists"),
    h(
      "dl",
      {},
      ...row("Owner", h("code", { title: id.owner }, id.owner)),
      ...row("Public key", h("code", { title: id.pubkey }, shortHex(id.pubkey))),
      ...row("Created at block", String(id.created)),
      ...(attrs.length ? row("Attributes", h("ul", {}, ...attrs.map(([k, v]) => h("li", {}, `${k} = ${v}`)))) : []),
      ...(id.controllers?.length ? row("Controllers", id.controllers.join(", ")) : []),
    ),
    loc &&
      h(
        "div",
        { class: "location" },
        h("h3", {}, "Location"),
        h(
          "dl",
          { class: "loc" },
          ...row("Chain", loc.chain_id),
          ...row("Height", String(loc.height)),
          ...row("Key", h("code", {}, loc.key)),
          ...row("App hash", h("code", { title: loc.app_hash }, shortHex(loc.app_hash))),
        ),
        h(
          "p",
          { class: "muted" },
          "The location is a Merkle proof of this record against the app hash at that height. ",
          "Check it offline, with the chain's light client: ",
          h("code", {}, `vm id verify ${id.id}-location.json`),
        ),
      ),
    h(
      "p",
      { class: "actions" },
      download,
      h("a", { class: "button", href: `/v1/ids/${id.id}/did.json`, target: "_blank", rel: "noopener" }, "DID document"),
      h("a", { href: `/ids/${id.id}`, "data-link": true }, "Permalink"),
    ),
  );
}

export async function idPage(name: string): Promise<Node> {
  const id = await api.id(name);
  return h("div", {}, h("h1", {}, "ID ", id.id), idCard(id));
}
