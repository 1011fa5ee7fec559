// The explorer: latest blocks (live over the API's WebSocket), a block,
// a transaction, an account.

import { api, blocks, type Block } from "../api";
import { App, gas } from "../app";
import { h, shortHex } from "../dom";
import { addr, eventsTable, link, rows, table, when } from "../view";
import { historyTable } from "./history";

const shown = 20;

function blockRow(b: Block): HTMLElement {
  return h("tr", { "data-height": b.height }, h("td", {}, link(`/blocks/${b.height}`, String(b.height))), h("td", {}, when(b.time)),
    h("td", {}, String(b.num_txs)), h("td", {}, h("code", { title: b.hash }, shortHex(b.hash))), h("td", {}, addr(b.proposer.toLowerCase())));
}

export async function blocksPage(app: App): Promise<Node> {
  const st = await api.status();
  const first = await Promise.all(
    Array.from({ length: Math.min(shown, st.latest_height) }, (_, i) => api.block(st.latest_height - i)),
  );
  const body = h("tbody", { "aria-live": "polite" }, ...first.map(blockRow));
  let top = st.latest_height;
  const stop = blocks((ev) => {
    if (!ev.block || ev.block.height <= top) return;
    top = ev.block.height;
    body.prepend(blockRow(ev.block));
    while (body.children.length > shown) body.lastElementChild?.remove();
  });
  app.onLeave(stop);
  return h("div", {}, h("h1", {}, "Blocks"), h("p", { class: "lead" }, "The latest blocks, live."),
    h("table", { id: "blocks" }, h("caption", {}, "Latest blocks"),
      h("thead", {}, h("tr", {}, ...["Height", "Time", "Txs", "Hash", "Proposer"].map((c) => h("th", { scope: "col" }, c)))), body));
}

export async function blockPage(height: number): Promise<Node> {
  const b = await api.block(height);
  const txs = await Promise.all((b.tx_hashes ?? []).slice(0, 100).map((x) => api.tx(x)));
  return h("div", {}, h("h1", {}, `Block ${b.height}`),
    rows([["Time", when(b.time)], ["Hash", h("code", {}, b.hash)], ["App hash", h("code", {}, b.app_hash)],
      ["Proposer", addr(b.proposer.toLowerCase())], ["Transactions", String(b.num_txs)]]),
    h("p", { class: "actions" }, b.height > 1 ? link(`/blocks/${b.height - 1}`, "← previous") : "", link(`/blocks/${b.height + 1}`, "next →")),
    txs.length ? table("Transactions", ["#", "Hash", "Result", "Events"], txs.map((t) => [String(t.index),
      link(`/txs/${t.hash}`, h("code", {}, shortHex(t.hash))), t.code === 0 ? "ok" : h("span", { class: "bad" }, `refused: ${t.log ?? t.code}`),
      (t.events ?? []).map((e) => e.type).join(", ")])) : "");
}

export async function txPage(hash: string): Promise<Node> {
  const t = await api.tx(hash);
  return h("div", {}, h("h1", {}, "Transaction"),
    rows([["Hash", h("code", {}, t.hash)], ["Block", link(`/blocks/${t.height}`, String(t.height))], ["Index", String(t.index)],
      ["Result", t.code === 0 ? h("span", { class: "good" }, "ok") : h("span", { class: "bad" }, `refused (code ${t.code}): ${t.log ?? ""}`)]]),
    h("h2", {}, "Events"), eventsTable(t.events),
    t.body ? h("details", {}, h("summary", {}, "Body"), h("pre", { class: "out" }, JSON.stringify(t.body, null, 2))) : "");
}

export async function accountPage(app: App, a: string): Promise<Node> {
  const acc = await app.account(a);
  const mine = app.keys.find((k) => k.address === a);
  return h("div", {}, h("h1", {}, "Account"),
    rows([["Address", h("code", {}, a)], ["Balance", gas(acc.balance)], ["Nonce", String(acc.nonce)],
      ...(mine ? [["Key in this browser", mine.name] as [string, string]] : [])]), historyTable(a));
}
