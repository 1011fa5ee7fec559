// The contract pool: search and tags; a contract's page with its
// versions, interface, code and a call form built from each function's
// input schema.

import { api, type Contract, type ContractVersion, type FunctionSpec } from "../api";
import type { App } from "../app";
import { field, form, h, replace, Status, type Child } from "../dom";
import { utf8 } from "../bytes";
import { parseAmount } from "../tx";
import { addr, link, rows, table } from "../view";
import { inputForm } from "./schema";
import { watchResult } from "./results";
import { metricsSection } from "./metrics";

export async function contractsPage(): Promise<Node> {
  const params = new URLSearchParams(location.search);
  const query = h("input", { type: "search", name: "query", value: params.get("query") ?? "", autocomplete: "off" });
  const list = h("div", { id: "contract-list", "aria-live": "polite" });
  const st = new Status();
  let tag = params.get("tag") ?? "";
  const load = async (after?: string) => {
    const res = await api.contracts({ query: query.value.trim(), tag, after });
    const items = res.contracts.map((c) => card(c, (t) => {
      tag = t;
      void load().catch((e: Error) => st.error(e.message));
    }));
    if (!after) replace(list, tag ? h("p", {}, "Tag ", h("strong", {}, tag), " ", h("button", { type: "button", class: "link", onclick: () => {
      tag = "";
      void load();
    } }, "clear")) : "");
    if (!after && items.length === 0) list.append(h("p", { class: "muted" }, "No contract matches."));
    list.append(...items);
    if (res.next) list.append(h("button", { type: "button", class: "more", onclick: (e: Event) => {
      (e.target as HTMLElement).remove();
      void load(res.next);
    } }, "More"));
  };
  await load();
  return h("div", {}, h("h1", {}, "Contracts"),
    h("p", { class: "lead" }, "Every contract published on this chain. Calls are paid in GAS and run by miners."),
    form(st, () => load(), field("Search names and descriptions", query), h("button", { type: "submit" }, "Search")), list);
}

function card(c: Contract, onTag: (t: string) => void): HTMLElement {
  return h("article", { class: "card contract", "data-contract": c.name },
    h("h2", {}, link(`/contracts/${c.name}`, c.name), h("span", { class: "muted" }, ` ${c.latest}`), c.composite ? h("span", { class: "badge" }, " composite") : ""),
    c.description ? h("p", {}, c.description) : "",
    h("p", { class: "tags" }, ...(c.tags ?? []).map((t) => h("button", { type: "button", class: "tag", onclick: () => onTag(t) }, t)),
      h("span", { class: "muted" }, `${c.versions} version${c.versions === 1 ? "" : "s"}`)));
}

export async function contractPage(app: App, name: string): Promise<Node> {
  const [c, vl] = await Promise.all([api.contract(name), api.versions(name)]);
  const versions = vl.versions;
  const latest = versions.find((v) => v.version === c.latest) ?? versions[versions.length - 1];
  return h("div", {}, h("h1", {}, c.name),
    c.description ? h("p", { class: "lead" }, c.description) : "",
    rows([["Owner", addr(c.owner)], ["Maintainers", (c.maintainers ?? []).length ? h("span", {}, ...(c.maintainers ?? []).map(addr)) : "none"],
      ["Latest", c.latest], ["Published at block", link(`/blocks/${c.created}`, String(c.created))], ["Tags", (c.tags ?? []).join(", ") || "none"]]),
    table("Versions", ["Version", "Block", "Code", "Publisher"], [...versions].reverse().map((v) => [
      v.version + (v.yanked ? " (yanked)" : ""), link(`/blocks/${v.published}`, String(v.published)),
      v.code_size ? h("a", { href: `/v1/contracts/${c.name}@${v.version}/code`, download: `${c.name}-${v.version}.wasm` }, `${v.code_size} bytes`) : "composite",
      addr(v.publisher)])),
    metricsSection(c.name),
    latest ? functions(app, latest) : "");
}

function functions(app: App, v: ContractVersion): Child {
  const fns: FunctionSpec[] = v.interface?.functions ?? (v.exports ?? []).filter((e) => !e.startsWith("_")).map((name) => ({ name }));
  if (fns.length === 0) return h("p", { class: "muted" }, "This version declares no functions.");
  return h("section", {}, h("h2", {}, "Call it"),
    v.interface ? h("details", { class: "interface" }, h("summary", {}, "Interface (JSON)"),
      h("pre", { class: "out" }, JSON.stringify(v.interface, null, 2))) : "",
    h("p", { class: "muted" }, `Calls run ${v.name}@${v.version}. The input is checked against the function's schema here and by the chain.`),
    ...fns.map((f) => callForm(app, v, f)));
}

function callForm(app: App, v: ContractVersion, f: FunctionSpec): HTMLElement {
  const st = new Status();
  const out = h("div", { class: "call-out" });
  const inp = inputForm(f);
  const gasLimit = h("input", { name: "gas", inputmode: "numeric", value: "5000000" });
  const reward = h("input", { name: "reward", inputmode: "numeric", value: "100" });
  return h("section", { class: "card", "data-fn": f.name }, h("h3", {}, h("code", {}, f.name)), f.description ? h("p", {}, f.description) : "",
    form(st, async () => {
      const input = inp.value(); // throws a message naming the bad field
      const gl = parseAmount(gasLimit.value, "gas limit");
      const rw = parseAmount(reward.value, "reward");
      const fee = app.minFee();
      await app.afford(gl + rw + fee, "the call's escrow and fee");
      st.busy("Sending…");
      const r = await app.request({ contract: `${v.name}@${v.version}`, fn: f.name, input: utf8.encode(input), gasLimit: gl, price: 1n,
        reward: rw, replicas: 1, quorum: 1, deadline: 100n }, fee, (id) => {
        st.busy("Sent; waiting for a miner…");
        replace(out, watchResult(app, id));
      });
      st.ok(`Settled: ${r.exec_status ?? r.status}.`);
    }, inp.el, h("details", {}, h("summary", {}, "Market terms"), field("Gas limit", gasLimit), field("Reward (GAS)", reward)),
    h("button", { type: "submit" }, `Call ${f.name}`)), out);
}
