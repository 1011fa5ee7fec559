// The miner registry: attributes, reputation counters and earnings.

import { api } from "../api";
import { gas } from "../app";
import { h } from "../dom";
import { addr, table } from "../view";

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
      all.map((m) => [addr(m.address), m.kind, String(m.capacity), m.active ? "yes" : "no", String(m.jobs_taken),
        `${m.agreed} (${rate(m.agreed, m.jobs_taken)})`, String(m.disagreed), String(m.timed_out), gas(m.earned), m.min_gas])) : "");
}
