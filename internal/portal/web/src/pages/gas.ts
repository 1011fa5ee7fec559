// GAS: the active key's balance, the devnet faucet, and sending GAS to an
// ID or an address.

import { lookupID } from "../api";
import { App, gas } from "../app";
import { field, form, h, replace, Status } from "../dom";
import { parseAmount } from "../tx";
import { checkIDName } from "./id";
import { historyTable } from "./history";

export async function gasPage(app: App): Promise<Node> {
  const k = app.need();
  const bal = h("strong", { id: "balance" });
  const draw = async () => replace(bal, gas((await app.account(k.address)).balance));
  await draw();
  let history = historyTable(k.address);
  app.onChange(() => {
    void draw().catch(() => {});
    const fresh = historyTable(k.address);
    history.replaceWith(fresh);
    history = fresh;
  });
  return h("div", {}, h("h1", {}, "GAS"),
    h("p", { class: "lead" }, "Balance of ", h("strong", {}, k.name), ": ", bal),
    app.status.faucet_enabled ? faucetForm(app) : "",
    sendForm(app), history);
}

function faucetForm(app: App): Node {
  const st = new Status();
  const amount = h("input", { name: "faucetamount", inputmode: "numeric", value: "100000000" });
  return h("section", { class: "card" }, h("h2", {}, "Devnet faucet"), form(st, async () => {
    const amt = parseAmount(amount.value);
    st.busy("Asking the faucet…");
    await app.send([{ faucet: { to: app.need().address, amount: amt } }], 0n);
    st.ok(`Received ${gas(amt)}.`);
  }, field("Amount", amount), h("button", { type: "submit" }, "Get GAS")));
}

// resolveTo reads an address, or an ID whose owner receives.
async function resolveTo(to: string): Promise<{ address: string; label: string }> {
  if (/^[0-9a-f]{40}$/.test(to)) return { address: to, label: to };
  checkIDName(to);
  const id = await lookupID(to);
  if (!id) throw new Error(`no ID named ${to}`);
  return { address: id.owner, label: `${to} (${id.owner})` };
}

function sendForm(app: App): Node {
  const st = new Status();
  const to = h("input", { name: "sendto", autocomplete: "off", spellcheck: "false", required: true });
  const amount = h("input", { name: "sendamount", inputmode: "numeric", required: true });
  return h("section", { class: "card", id: "send" }, h("h2", {}, "Send GAS"), form(st, async () => {
    const t = to.value.trim().toLowerCase();
    if (t === "") throw new Error("to: an ID or a 40-hex-digit address");
    const amt = parseAmount(amount.value);
    const dest = await resolveTo(t);
    const fee = app.minFee();
    await app.afford(amt + fee, `sending ${gas(amt)} plus a ${gas(fee)} fee`);
    st.busy(`Sending to ${dest.label}…`);
    const hash = await app.send([{ transfer: { to: dest.address, amount: amt } }], fee);
    st.ok(`Sent ${gas(amt)} to ${dest.label}. Transaction `, h("code", { "data-tx": hash }, hash));
  }, field("To", to, "An ID, or an account address (40 hex digits)."), field("Amount", amount, "Whole GAS."),
  h("button", { type: "submit" }, "Send")));
}
