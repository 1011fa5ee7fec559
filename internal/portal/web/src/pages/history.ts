// An account's history (the node's explorer index): newest first, a page
// at a time.

import { api, type AccountTx } from "../api";
import { gas } from "../app";
import { h } from "../dom";
import { link, when } from "../view";

// what says in a few words what a transaction did for addr.
function what(t: AccountTx, addr: string): string {
  const parts: string[] = [];
  for (const e of t.events ?? []) {
    const a = e.attributes ?? {};
    switch (e.type) {
      case "transfer":
        parts.push(a.from === addr ? `sent ${gas(a.amount ?? "0")} to ${a.to?.slice(0, 8)}…` : `received ${gas(a.amount ?? "0")} from ${a.from?.slice(0, 8)}…`);
        break;
      case "faucet":
        parts.push(`faucet ${gas(a.amount ?? "0")}`);
        break;
      case "request":
        parts.push(`called ${a.contract ?? ""} ${a.fn ?? ""}`);
        break;
      case "deploy":
        parts.push(`published ${a.name}@${a.version}`);
        break;
      case "fee":
        if (a.payer === addr && a.amount !== "0") parts.push(`fee ${gas(a.amount ?? "0")}`);
        break;
      default:
        if (!["tx", "fee_refund"].includes(e.type)) parts.push(e.type.replace(/_/g, " "));
    }
  }
  return parts.join(", ") || (t.code === 0 ? "transaction" : "refused");
}

export function historyTable(addr: string): HTMLElement {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "more" }, "Older");
  const wrap = h("section", { class: "card", "aria-labelledby": "hist-title" }, h("h2", { id: "hist-title" }, "History"),
    h("table", { class: "history" }, h("caption", { class: "muted" }, "Newest first"),
      h("thead", {}, h("tr", {}, ...["Time", "Block", "What", "Result"].map((c) => h("th", { scope: "col" }, c)))), body), more);
  let next: string | undefined;
  const load = async () => {
    more.disabled = true;
    const page = await api.history(addr, next);
    for (const t of page.txs) {
      body.append(h("tr", { "data-tx": t.hash }, h("td", {}, when(t.time)), h("td", {}, link(`/blocks/${t.height}`, String(t.height))),
        h("td", {}, link(`/txs/${t.hash}`, what(t, addr))), h("td", {}, t.code === 0 ? "ok" : h("span", { class: "bad" }, t.log ?? "refused"))));
    }
    if (page.txs.length === 0 && !next) body.append(h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No transactions yet.")));
    next = page.next;
    more.disabled = false;
    more.hidden = !next;
  };
  more.addEventListener("click", () => void load());
  void load().catch((e: Error) => wrap.append(h("p", { class: "status error" }, e.message)));
  return wrap;
}
