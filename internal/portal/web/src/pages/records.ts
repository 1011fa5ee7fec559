// "My chain": an ID's records. Anyone reads public ones; a listed reader
// decrypts a private one in the browser; the owner and controllers write
// and remove. Private values are encrypted here (src/sshage.ts, loaded on
// demand) to the readers' account keys; the chain sees only ciphertext.

import { api, lookupID, type ID, type IDRecord } from "../api";
import type { App } from "../app";
import { fromBase64, fromHex, toBase64 } from "../bytes";
import { field, form, h, replace, Status } from "../dom";
import { idRequest, myIDs } from "../idchain";
import { seedOf } from "../keys";
import { addr, link } from "../view";
import { checkIDName } from "./id";

const keyRE = /^[A-Za-z0-9_.\-:/@+]{1,128}$/; // internal/idchain.ValidKey
const maxValue = 4096; // internal/idchain: the largest value

// decryptRecord opens a private record with the active key.
export async function decryptRecord(app: App, r: IDRecord): Promise<string> {
  const k = app.need();
  const { decrypt } = await import("../sshage");
  return decrypt(fromBase64(r.ciphertext ?? ""), await seedOf(k), fromHex(k.pub));
}

function canWrite(app: App, id: ID): boolean {
  const a = app.active?.address;
  return !!a && (id.owner === a || (id.controllers ?? []).includes(a));
}

export async function recordsSection(app: App, name: string): Promise<Node> {
  const id = await api.id(name);
  const list = h("div", { id: "records", "aria-live": "polite" });
  const draw = async () => {
    const all: IDRecord[] = [];
    let after: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await api.records(name, after);
      all.push(...page.records);
      if (!(after = page.next)) break;
    }
    replace(list, all.length ? h("ul", { class: "records" }, ...all.map((r) => recordItem(app, id, r, draw))) : h("p", { class: "muted" }, "No records yet."));
  };
  await draw();
  return h("section", { class: "card", "aria-labelledby": "rec-title" }, h("h2", { id: "rec-title" }, `${name}'s chain`), list,
    canWrite(app, id) ? setForm(app, name, draw) : h("p", { class: "muted" }, "Only the owner and its controllers write here."));
}

function recordItem(app: App, id: ID, r: IDRecord, redraw: () => Promise<void>): HTMLElement {
  const st = new Status();
  const li = h("li", { "data-record": r.key }, h("strong", {}, r.key), " ");
  if (r.private) {
    const shown = h("span", { class: "plain" });
    li.append(h("span", { class: "muted" }, `private · readers ${(r.readers ?? []).join(", ")} `), shown,
      h("button", { type: "button", class: "link", onclick: async () => {
        try {
          replace(shown, h("code", {}, await decryptRecord(app, r)));
          st.clear();
        } catch (e) {
          st.error(e instanceof Error ? e.message : String(e));
        }
      } }, "Decrypt"));
  } else {
    li.append(h("code", {}, r.value ?? ""));
  }
  li.append(" ", h("small", { class: "muted" }, "by ", addr(r.by), ` at block ${r.updated}`));
  if (canWrite(app, id)) {
    li.append(" ", h("button", { type: "button", class: "link danger", onclick: async () => {
      try {
        st.busy(`Removing ${r.key}…`);
        await idRequest(app, "rm", { name: id.id, key: r.key });
        await redraw();
      } catch (e) {
        st.error(e instanceof Error ? e.message : String(e));
      }
    } }, "Remove"));
  }
  li.append(st.el);
  return li;
}

function setForm(app: App, name: string, redraw: () => Promise<void>): HTMLElement {
  const st = new Status();
  const key = h("input", { name: "reckey", autocomplete: "off", spellcheck: "false" });
  const value = h("textarea", { name: "recvalue", rows: 2 });
  const priv = h("input", { type: "checkbox", name: "recprivate" });
  const readers = h("input", { name: "recreaders", autocomplete: "off", spellcheck: "false" });
  return h("div", {}, h("h3", {}, "Write a record"), form(st, async () => {
    const k = key.value.trim();
    if (!keyRE.test(k)) throw new Error("key: 1 to 128 characters of A-Z, a-z, 0-9 and _.-:/@+");
    const v = value.value;
    if (new TextEncoder().encode(v).length > maxValue) throw new Error(`value: at most ${maxValue} bytes`);
    const record: Record<string, unknown> = { key: k };
    if (priv.checked) {
      const names = readers.value.split(",").map((s) => s.trim()).filter(Boolean);
      if (names.length === 0) throw new Error("readers: name at least one reader ID (yours, to read it yourself)");
      const pubs: Uint8Array[] = [];
      for (const n of names) {
        checkIDName(n);
        const rid = await lookupID(n);
        if (!rid) throw new Error(`readers: no ID named ${n}`);
        pubs.push(fromHex(rid.pubkey));
      }
      st.busy("Encrypting…");
      const { encrypt } = await import("../sshage");
      Object.assign(record, { private: true, ciphertext: toBase64(await encrypt(v, pubs)), readers: names });
    } else {
      if (readers.value.trim()) throw new Error("readers are for private records: tick Private");
      record.value = v;
    }
    st.busy("Writing…");
    await idRequest(app, "set", { name, record });
    st.ok(`Wrote ${k}.`);
    key.value = value.value = "";
    await redraw();
  }, field("Key", key, "Like email, phone or links/site."), field("Value", value),
  h("div", { class: "field check" }, priv, h("label", { for: (priv.id = "f-recprivate") }, "Private: encrypt to the readers below")),
  field("Readers", readers, "Comma-separated IDs that may read a private record."),
  h("button", { type: "submit" }, "Write")));
}

// mePage lists the IDs this browser's key owns and opens a record shared
// with one of them.
export async function mePage(app: App): Promise<Node> {
  const k = app.need();
  const mine: ID[] = [];
  for (const n of myIDs(k.address)) {
    const id = await lookupID(n);
    if (id && id.owner === k.address) mine.push(id);
  }
  const st = new Status();
  const who = h("input", { name: "sharedid", autocomplete: "off", spellcheck: "false" });
  const key = h("input", { name: "sharedkey", autocomplete: "off", spellcheck: "false" });
  const out = h("div", { id: "shared" });
  return h("div", {}, h("h1", {}, "My chain"),
    mine.length ? h("ul", {}, ...mine.map((id) => h("li", {}, link(`/ids/${id.id}`, id.id)))) :
      h("p", { class: "muted" }, "No ID made with this key in this browser yet. ", link("/", "Create one.")),
    h("section", { class: "card" }, h("h2", {}, "Read a record shared with me"), form(st, async () => {
      const n = who.value.trim();
      checkIDName(n);
      const rk = key.value.trim();
      if (!keyRE.test(rk)) throw new Error("key: 1 to 128 characters of A-Z, a-z, 0-9 and _.-:/@+");
      const r = await api.record(n, rk);
      replace(out, h("p", {}, h("strong", {}, `${n}/${rk}: `), h("code", {}, r.private ? await decryptRecord(app, r) : r.value ?? "")));
      st.clear();
    }, field("ID", who), field("Key", key), h("button", { type: "submit" }, "Read")), out));
}
