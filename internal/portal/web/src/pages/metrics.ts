// A contract's metrics (the node's explorer index): calls, success rate,
// gas and settlement latency over time, and its recent results with
// their logs.

import { api, type ContractStats } from "../api";
import { timeChart } from "../chart";
import { h, replace } from "../dom";
import { link, when } from "../view";

const ranges: [string, number, number][] = [["Last hour", 3600, 60], ["Last 24 hours", 86400, 900]];

export function metricsSection(name: string): HTMLElement {
  return h("section", { class: "card", "aria-labelledby": "metrics-title" }, h("h2", { id: "metrics-title" }, "Metrics"),
    statsPanel((from, to, step) => api.stats(name, from, to, step), "calls"), recentResults(name));
}

// statsPanel charts what get returns for the chosen range; noun names
// what is counted ("calls" of a contract, "jobs" of a miner).
export function statsPanel(get: (from: number, to: number, step: number) => Promise<ContractStats>, noun: string): HTMLElement {
  const body = h("div", { class: "metrics", "aria-live": "polite" });
  const buttons = ranges.map(([label, span, step]) =>
    h("button", { type: "button", class: "tag", onclick: () => void show(span, step, label) }, label));
  const show = async (span: number, step: number, label: string) => {
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === label)));
    const to = Math.ceil(Date.now() / 1000 / step) * step;
    try {
      replace(body, await statsView(await get(to - span, to, step), body.clientWidth || 600, noun));
    } catch (e) {
      replace(body, h("p", { class: "status error" }, e instanceof Error ? e.message : String(e)));
    }
  };
  void show(ranges[0]![1], ranges[0]![2], ranges[0]![0]);
  return h("div", {}, h("p", { class: "tags" }, ...buttons), body);
}

async function statsView(s: ContractStats, width: number, noun: string): Promise<Node> {
  const t = s.totals;
  const rate = t.calls ? ((100 * t.ok) / t.calls).toFixed(1) + " %" : "–";
  const summary = `${t.calls} ${noun}, ${rate} ok, ${t.gas_used} gas, latency p50 ${t.latency_ms.p50} ms, p90 ${t.latency_ms.p90} ms, p99 ${t.latency_ms.p99} ms`;
  const x = s.buckets.map((b) => b.start);
  const lat = (f: (b: (typeof s.buckets)[number]) => number) => s.buckets.map((b) => (b.latency_ms.samples ? f(b) : null));
  const charts = await Promise.all([
    timeChart(noun[0]!.toUpperCase() + noun.slice(1), x, [{ label: "ok", values: s.buckets.map((b) => b.ok) }, { label: "failed", values: s.buckets.map((b) => b.failed) }],
      `${t.ok} ok and ${t.failed} failed`, width),
    timeChart("Gas used", x, [{ label: "gas", values: s.buckets.map((b) => b.gas_used) }], `${t.gas_used} gas in all`, width),
    timeChart("Latency (ms)", x, [{ label: "p50", values: lat((b) => b.latency_ms.p50) }, { label: "p90", values: lat((b) => b.latency_ms.p90) },
      { label: "p99", values: lat((b) => b.latency_ms.p99) }], `p50 ${t.latency_ms.p50} ms, p99 ${t.latency_ms.p99} ms`, width),
  ]);
  return h("div", {}, h("p", { class: "totals" }, summary), ...charts);
}

function recentResults(name: string): HTMLElement {
  const body = h("tbody");
  const el = h("div", {}, h("h3", {}, "Recent results"), h("table", { class: "recent" },
    h("thead", {}, h("tr", {}, ...["Settled", "Request", "Function", "Outcome", "Gas", "Latency", "Logs"].map((c) => h("th", { scope: "col" }, c)))), body));
  void api.contractResults(name).then((page) => {
    if (page.results.length === 0) body.append(h("tr", {}, h("td", { colspan: 7, class: "muted" }, "No results yet.")));
    for (const r of page.results) {
      const logs = h("details", {}, h("summary", {}, "logs"));
      logs.addEventListener("toggle", () => {
        if (!logs.open || logs.dataset.loaded) return;
        logs.dataset.loaded = "1";
        void api.result(r.request_id).then((full) =>
          logs.append(h("pre", { class: "out" }, (full.logs ?? []).join("\n") || "(no logs)")));
      });
      body.append(h("tr", { "data-result": r.request_id }, h("td", {}, when(r.time)),
        h("td", {}, link(`/results/${r.request_id}`, h("code", {}, r.request_id.slice(0, 10) + "…"))), h("td", {}, r.fn),
        h("td", {}, h("span", { class: r.exec_status === "ok" ? "good" : "bad" }, r.exec_status || r.status)),
        h("td", {}, String(r.gas_used)), h("td", {}, `${r.latency_ms} ms`), h("td", {}, logs)));
    }
  }, (e: Error) => el.append(h("p", { class: "status error" }, e.message)));
  return el;
}
