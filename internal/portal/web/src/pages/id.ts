// An ID and its location: where it lives on the chain, as `vm id verify`
// checks it.

import { api, type ID, type Location } from "../api";
import { h, replace, shortHex } from "../dom";
import { fetchCommit, fetchGenesis, pinnedTrust } from "../verify/trust";
import { concat, equal, utf8 } from "../bytes";
import { verifyLocation, VerifyError, type Check, type Subject } from "../verify/verify";

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
          "Check it here (Verify: this browser checks the proof and the validators' signatures itself), ",
          "or offline, with the chain's light client: ",
          h("code", {}, `vm id verify ${id.id}-location.json`),
        ),
        verifyPanel(loc, idSubject(id, loc.namespace)),
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

// checkItem is one verification step, passed or failed, in words first
// (the mark is decoration: screen readers hear "passed"/"failed").
function checkItem(c: Check): HTMLElement {
  return h(
    "li",
    { class: c.ok ? "status ok" : "status error", "data-check": c.ok ? "passed" : "failed" },
    h("span", { "aria-hidden": "true" }, c.ok ? "✓ " : "✗ "),
    h("strong", {}, c.ok ? "passed: " : "failed: "),
    c.name,
    c.detail ? h("span", { class: "muted" }, " — ", c.detail) : "",
  );
}

// idSubject checks that a location is id's record: namespace "data", the
// key internal/idchain.IDKey(id) in the IDChain contract's namespace
// (state.DataKey: 0x0b, "idchain", 0x00, "id/" + name), and a value
// (state.EncodeData: version, then idchain.ID's JSON) that says what the
// card shows.
function idSubject(id: ID, namespace: string): Subject {
  return {
    name: "location is this ID's record, as shown",
    check(key, value) {
      if (namespace !== "data") throw new Error(`namespace "${namespace}": IDs live in "data"`);
      const want = concat(new Uint8Array([0x0b]), utf8.encode("idchain"), new Uint8Array([0]), utf8.encode("id/" + id.id));
      if (!equal(key, want)) throw new Error(`the location's key is not the store key of ID "${id.id}"`);
      // state.EncodeData: an 8-byte big-endian version (≥ 1), then the JSON.
      if (value.length < 8) throw new Error("the location's value is not a versioned record");
      const version = new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0);
      const shownVersion = (id as { version?: number }).version;
      if (version === 0n || (shownVersion !== undefined && BigInt(shownVersion) !== version)) {
        throw new Error(`the page shows version ${shownVersion}, the proven record is version ${version}`);
      }
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(value.subarray(8)));
      } catch {
        throw new Error("the location's value is not an ID record (JSON)");
      }
      const norm = (o: Record<string, string> | null | undefined) =>
        JSON.stringify(Object.entries(o ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      const shown: [string, unknown, unknown][] = [
        ["id", rec.id, id.id],
        ["owner", rec.owner, id.owner],
        ["public key", rec.pubkey, id.pubkey],
        ["created", rec.created, id.created],
        ["controllers", JSON.stringify(rec.controllers ?? []), JSON.stringify(id.controllers ?? [])],
        ["attributes", norm(rec.attrs as Record<string, string> | null), norm(id.attrs)],
      ];
      for (const [what, proven, card] of shown) {
        if (proven !== card) throw new Error(`the page shows ${what} ${String(card)}, the proven record says ${String(proven)}`);
      }
      return `key of ID ${id.id}; owner, key, controllers and attributes match the record`;
    },
  };
}

// verifyPanel is the Verify button and its live list of checks: the
// location's proof and block height+1's signed header, checked in this
// browser against the genesis validators it pinned on first use.
function verifyPanel(loc: Location, subject: Subject): HTMLElement {
  const out = h("div", { class: "verify", "aria-live": "polite", "data-verify": "idle" });
  const button = h("button", { type: "button" }, "Verify");
  button.addEventListener("click", () => {
    button.disabled = true;
    out.dataset.verify = "running";
    replace(out, h("p", { class: "status busy" }, "Verifying…"));
    const list = h("ol", { class: "checks" });
    void (async () => {
      let trustLine: HTMLElement | string = "";
      try {
        const t = await pinnedTrust(fetchGenesis);
        trustLine = h(
          "p",
          { class: "muted", "data-trust-hash": t.hash },
          `Trusted: the genesis validators of ${t.chainID}, set hash `,
          h("code", { title: t.hash }, t.hash),
          t.firstUse ? " — pinned in this browser now (first use)." : ` — pinned in this browser on ${t.pinnedAt}.`,
        );
        replace(out, trustLine, list);
        const checks = await verifyLocation(loc, t, (height) => fetchCommit(height), subject);
        for (const c of checks) list.append(checkItem(c));
        out.dataset.verify = "passed";
        out.append(h("p", { class: "status ok", role: "status" }, `Verified: every check passed (${checks.length}).`));
      } catch (e) {
        replace(out, trustLine, list);
        if (e instanceof VerifyError) {
          for (const c of e.passed) list.append(checkItem(c));
          list.append(checkItem({ name: e.check, ok: false, detail: e.message.slice(e.check.length + 2) }));
        }
        out.dataset.verify = "failed";
        out.append(h("p", { class: "status error", role: "alert" }, "Not verified: ", e instanceof Error ? e.message : String(e)));
      } finally {
        button.disabled = false;
      }
    })();
  });
  return h("div", {}, h("p", { class: "actions" }, button), out);
}

export async function idPage(name: string): Promise<Node> {
  const id = await api.id(name);
  return h("div", {}, h("h1", {}, "ID ", id.id), idCard(id));
}
