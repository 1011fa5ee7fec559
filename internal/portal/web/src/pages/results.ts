// A request's life: inclusion, the miners' seals and reveals, and the
// settled result with its location. Followed live until it settles.

import { api, ApiError, blocks, type MarketRequest, type Result } from "../api";
import { App, gas } from "../app";
import { h, replace, type Child } from "../dom";
import { addr, decodeB64, link, pretty, rows, table } from "../view";

// watchResult is a view of request id that refreshes on every block
// until its result is settled.
export function watchResult(app: App, id: string): HTMLElement {
  const el = h("div", { class: "result", "data-request": id, "aria-live": "polite" }, h("p", { class: "muted" }, "Waiting for the request's block…"));
  let done = false;
  let busy = false;
  const refresh = async () => {
    if (done || busy) return;
    busy = true;
    try {
      const req = await api.request(id).catch(notFound);
      const res = await api.result(id).catch(notFound);
      if (req || res) replace(el, view(id, req, res));
      if (res) {
        done = true;
        stop();
      }
    } finally {
      busy = false;
    }
  };
  const stop = blocks(() => void refresh().catch(() => {}));
  app.onLeave(stop);
  void refresh().catch(() => {});
  return el;
}

function notFound(e: unknown): null {
  if (e instanceof ApiError && e.code === "not_found") return null;
  throw e;
}

function view(id: string, req: MarketRequest | null, res: Result | null): Node {
  const parts: Child[] = [h("h3", {}, link(`/results/${id}`, "Request ", h("code", {}, id.slice(0, 12) + "…")))];
  if (req) {
    parts.push(rows([["Contract", link(`/contracts/${req.name}`, `${req.name}@${req.version}`)], ["Function", req.fn],
      ["Requester", addr(req.requester)], ["Included", link(`/blocks/${req.included}`, String(req.included))],
      ["Status", `${req.status}${req.status === "open" ? `, round ${req.round}, ${req.phase}` : ""}`],
      ["Miners", `${req.replicas} wanted, ${req.quorum} must agree`], ["Deadline", `block ${req.deadline}`]]));
    if (req.seals?.length) {
      parts.push(table("Seals and reveals", ["Miner", "Sealed at", "Revealed"],
        req.seals.map((s) => [addr(s.miner), link(`/blocks/${s.height}`, String(s.height)), s.revealed ? "yes" : "not yet"])));
    }
  }
  if (res) {
    const out = decodeB64(res.output);
    parts.push(h("h4", {}, "Result"), rows([["Settled", link(`/blocks/${res.settled}`, String(res.settled))],
      ["Outcome", h("span", { class: res.exec_status === "ok" ? "good exec" : "bad exec" }, res.exec_status ?? res.status)],
      ...(res.error ? [["Error", res.error] as [string, Child]] : []),
      ["Gas used", String(res.gas_used)], ["Cost", gas(res.cost)], ["Refund", gas(res.refund)],
      ["Answered from memo", res.memo ? "yes" : "no"]]),
    out ? h("div", {}, h("h4", {}, "Output"), pretty(out)) : "",
    res.logs?.length ? h("div", {}, h("h4", {}, "Logs"), h("pre", { class: "out" }, res.logs.join("\n"))) : "",
    res.paid?.length ? table("Paid", ["Miner", "Reward", "Gas"], res.paid.map((p) => [addr(p.miner), gas(p.reward), p.gas])) : "",
    res.location ? h("p", { class: "muted" }, `On the resultChain at height ${res.location.height}, key ${res.location.key.slice(0, 16)}…`) : "");
  }
  return h("div", {}, ...parts);
}

export async function resultPage(app: App, id: string): Promise<Node> {
  if (!/^[0-9a-f]{64}$/.test(id)) throw new Error("a request id is 64 hex digits");
  return h("div", {}, h("h1", {}, "Request"), watchResult(app, id));
}
