// "Create your ID": a key, devnet GAS, a name; then the ID's location.

import { lookupID, api } from "../api";
import { App, gas } from "../app";
import { field, form, h, replace, Status } from "../dom";
import { generate } from "../keys";
import { parseAmount } from "../tx";
import { checkIDName, idCard } from "./id";
import { idCost, idRequest, rememberID } from "../idchain";

const createCost = (app: App) => idCost(app, true);

export async function home(app: App): Promise<Node> {
  const out = h("div", { id: "created" });
  const steps = h("ol", { class: "steps" });
  const draw = async () => {
    const k = app.active;
    const bal = k ? (await app.account(k.address)).balance : 0n;
    replace(steps, keyStep(app), k && gasStep(app, bal), k && nameStep(app, out));
  };
  await draw();
  app.onChange(() => void draw().catch(() => {}));
  return h(
    "div",
    {},
    h("h1", {}, "Create your ID"),
    h("p", { class: "lead" }, "A global name bound to a key that only this browser holds. Anyone can look it up; only you can change it."),
    steps,
    out,
  );
}

// show puts an ID's card in out and moves the reader to it.
function show(out: HTMLElement, card: HTMLElement): void {
  replace(out, card);
  const title = card.querySelector("h2");
  title?.setAttribute("tabindex", "-1");
  title?.focus();
  card.scrollIntoView({ block: "start" });
}

function keyStep(app: App): HTMLElement {
  const k = app.active;
  if (k) {
    return h("li", { class: "done" }, h("h2", {}, "1. Your key"), h("p", {}, "Signing with ", h("strong", {}, k.name), " — ",
      h("code", {}, k.address), ". ", h("a", { href: "/keys", "data-link": true }, "Manage keys")));
  }
  const st = new Status();
  const name = h("input", { name: "keyname", autocomplete: "off", value: "me", required: true });
  return h(
    "li",
    {},
    h("h2", {}, "1. Make a key"),
    h("p", {}, "The key is made and kept in this browser; it never leaves it. Export it to a file from the Keys page to keep a copy."),
    form(
      st,
      async () => {
        const key = await generate(name.value.trim());
        await app.store.add(key);
        app.choose(key.name);
        await app.reload();
      },
      field("Key name", name, "For you only: a-z, 0-9, '-', '_' and '.'."),
      h("button", { type: "submit" }, "Make a key"),
    ),
  );
}

function gasStep(app: App, bal: bigint): HTMLElement {
  const need = createCost(app);
  const st = new Status();
  const li = h("li", { class: bal >= need ? "done" : "" }, h("h2", {}, "2. GAS"),
    h("p", {}, "Balance: ", h("strong", { id: "balance" }, gas(bal)), `. Creating an ID takes up to ${gas(need)}.`));
  if (app.status.faucet_enabled && bal < need) {
    li.append(form(st, async () => {
      st.busy("Asking the faucet…");
      await app.send([{ faucet: { to: app.need().address, amount: parseAmount("100000000") } }], 0n);
    }, h("button", { type: "submit" }, "Get devnet GAS")));
  } else if (bal < need) {
    li.append(h("p", {}, "This chain has no faucet: receive GAS from someone first."));
  }
  return li;
}

function nameStep(app: App, out: HTMLElement): HTMLElement {
  const st = new Status();
  const name = h("input", { name: "idname", autocomplete: "off", spellcheck: "false", required: true, maxlength: "32" });
  return h(
    "li",
    {},
    h("h2", {}, "3. Choose a name"),
    form(
      st,
      async () => {
        const n = name.value.trim();
        checkIDName(n);
        st.busy("Looking it up…");
        const have = await lookupID(n); // the node also refuses reserved names here
        if (have) {
          if (have.owner === app.active?.address) rememberID(have.owner, n);
          st.ok(`${n} exists already: here is where it is.`);
          show(out, idCard(have, false));
          return;
        }
        const k = app.need();
        st.busy("Sending the create request…");
        const res = (await idRequest(app, "create", { name: n, pubkey: k.pub },
          (id) => st.busy(`Request ${id.slice(0, 12)}… sent; waiting for a miner's result…`))) as { created: boolean };
        const id = await api.id(n);
        if (id.owner === k.address) rememberID(k.address, n);
        st.ok(res.created ? `${n} is yours.` : `${n} was taken a moment ago by someone else.`);
        show(out, idCard(id, res.created));
      },
      field("Name", name, "3 to 32 characters: a-z, 0-9 and '-', starting with a letter."),
      h("button", { type: "submit" }, "Create ID"),
    ),
  );
}
