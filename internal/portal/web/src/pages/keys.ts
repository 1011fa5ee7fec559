// Keys: make, choose, export, import and forget this browser's keys.

import type { App } from "../app";
import { field, form, h, replace, Status } from "../dom";
import { exportFile, generate, importFile } from "../keys";

export async function keysPage(app: App): Promise<Node> {
  const list = h("div", { id: "key-list" });
  const draw = () => replace(list, keyTable(app));
  draw();
  app.onChange(draw);
  return h("div", {}, h("h1", {}, "Keys"),
    h("p", { class: "lead" }, "Keys are made and kept in this browser. An exported file is the same format as `vm keys export` writes; `vm keys import` reads it."),
    list, makeForm(app), importForm(app));
}

function keyTable(app: App): Node {
  if (app.keys.length === 0) return h("p", { class: "muted" }, "No keys yet.");
  const active = app.active?.name;
  return h(
    "table",
    { class: "keys" },
    h("caption", {}, "Your keys"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Address"), h("th", { scope: "col" }, "Actions"))),
    h("tbody", {}, ...app.keys.map((k) => {
      const st = new Status();
      const pass = h("input", { type: "password", autocomplete: "new-password", "aria-label": `Passphrase for ${k.name}`, placeholder: "passphrase" });
      const exp = form(st, async () => {
        st.busy("Encrypting…");
        const f = await exportFile(k, pass.value);
        const a = h("a", { download: `${k.name}.key.json` }, `Save ${k.name}.key.json`);
        a.setAttribute("href", URL.createObjectURL(new Blob([JSON.stringify(f, null, 2)], { type: "application/json" })));
        st.ok("Encrypted. ", a);
        a.click();
      }, pass, h("button", { type: "submit" }, "Export"));
      exp.classList.add("inline");
      return h("tr", { "data-key": k.name },
        h("th", { scope: "row" }, k.name, k.name === active ? h("span", { class: "badge" }, " active") : ""),
        h("td", {}, h("code", {}, k.address)),
        h("td", {},
          k.name === active ? "" : h("button", { type: "button", onclick: () => app.choose(k.name) }, "Use"),
          exp,
          h("button", { type: "button", class: "danger", onclick: async () => {
            if (!confirm(`Forget key ${k.name}? Without an exported file, its GAS and IDs are lost.`)) return;
            await app.store.remove(k.name);
            await app.reload();
          } }, "Forget"),
        ));
    })),
  );
}

function makeForm(app: App): Node {
  const st = new Status();
  const name = h("input", { name: "newkey", autocomplete: "off", required: true });
  return h("section", { class: "card" }, h("h2", {}, "Make a key"), form(st, async () => {
    const k = await generate(name.value.trim());
    await app.store.add(k);
    app.choose(k.name);
    await app.reload();
    st.ok(`Made ${k.name}.`);
  }, field("Key name", name), h("button", { type: "submit" }, "Make")));
}

function importForm(app: App): Node {
  const st = new Status();
  const file = h("input", { type: "file", name: "keyfile", accept: ".json,application/json" });
  const pass = h("input", { type: "password", name: "importpass", autocomplete: "current-password" });
  const name = h("input", { name: "importname", autocomplete: "off" });
  return h("section", { class: "card" }, h("h2", {}, "Import a key file"), form(st, async () => {
    const f = file.files?.[0];
    if (!f) throw new Error("choose a key file");
    if (f.size > 64 << 10) throw new Error("a key file is a few hundred bytes; this one is too big");
    st.busy("Decrypting…");
    const k = await importFile(await f.text(), pass.value, name.value.trim() || undefined);
    await app.store.add(k);
    app.choose(k.name);
    await app.reload();
    st.ok(`Imported ${k.name} (${k.address}).`);
  }, field("Key file", file), field("Passphrase", pass), field("Name (optional)", name, "Defaults to the name in the file."),
  h("button", { type: "submit" }, "Import")));
}
