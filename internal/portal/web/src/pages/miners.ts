// The miner registry: attributes, reputation counters and earnings.

import { api } from "../api";
import { gas } from "../app";
import { h } from "../dom";
import { addr, link, rows, table } from "../view";
import { statsPanel } from "./metrics";

export async function minersPage(): Promise<Node> {
  const all = [];
  let after: string | undefined;
  for (let i = 0; i < 10; i++) {
    const page = await api.miners(after);
    all.push(...page.miners);
    if (!(after = page.next)) break;
  }
  const rate = (a: number, n: number) => (n ? `${Math.round((100 * a) / n)} %` : "–");
  return h("div", {}, h("h1", {}, "Miners"), h("p", { class: "lead" }, `${all.length} registered.`),
    all.length ? table("Registered miners", ["Miner", "Kind", "Capacity", "Active", "Jobs", "Agreed", "Disagreed", "Timed out", "Earned", "Min GAS/job"],
      all.map((m) => [link(`/miners/${m.address}`, h("code", { title: m.address }, m.address.slice(0, 8) + "…")), m.kind, String(m.capacity), m.active ? "yes" : "no", String(m.jobs_taken),
        `${m.agreed} (${rate(m.agreed, m.jobs_taken)})`, String(m.disagreed), String(m.timed_out), gas(m.earned), m.min_gas])) : "");
}

// minerPage is one miner: its registration, counters and jobs over time.
export async function minerPage(a: string): Promise<Node> {
  const m = await api.miner(a);
  return h("div", {}, h("h1", {}, "Miner"),
    rows([["Address", addr(m.address)], ["Kind", m.kind], ["Capacity", String(m.capacity)], ["Active", m.active ? "yes" : "no"],
      ["Registered at block", String(m.registered)], ["Jobs taken", String(m.jobs_taken)], ["Agreed", String(m.agreed)],
      ["Disagreed", String(m.disagreed)], ["Timed out", String(m.timed_out)], ["Earned", gas(m.earned)], ["Min GAS per job", m.min_gas],
      ["Software", m.software_version ?? ""]]),
    h("section", { class: "card", "aria-labelledby": "jobs-title" }, h("h2", { id: "jobs-title" }, "Jobs over time"),
      statsPanel((from, to, step) => api.minerStats(a, from, to, step), "jobs")));
}
