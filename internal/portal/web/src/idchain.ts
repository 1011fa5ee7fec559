// Requests to the IDChain system contract, with the market terms `vm id`
// uses by default.

import { App, decodeOutput } from "./app";
import { utf8 } from "./bytes";

export const idGas = 5_000_000n;
export const idReward = 100n;

// idCost is the most a request can take from the balance: gas, reward,
// fee (plus id_create_fee for a create).
export function idCost(app: App, create = false): bigint {
  return idGas + idReward + idFee(app, create);
}

export function idFee(app: App, create = false): bigint {
  return app.minFee() + (create ? BigInt(app.status.id_create_fee ?? "0") : 0n);
}

// idRequest calls fn of the IDChain with input (JSON) and returns its
// decoded output; a refusal by the contract throws its message.
export async function idRequest(app: App, fn: string, input: unknown, onSent?: (id: string) => void): Promise<unknown> {
  const create = fn === "create";
  await app.afford(idCost(app, create), `this ${fn} request`);
  const r = await app.request(
    { contract: "idchain@^1", fn, input: utf8.encode(JSON.stringify(input)), gasLimit: idGas, price: 1n, reward: idReward,
      replicas: 1, quorum: 1, deadline: 100n },
    idFee(app, create),
    onSent,
  );
  return decodeOutput(r);
}

// My IDs are remembered per key in this browser (no index maps an owner
// to its IDs); each is checked against the chain when shown.
export function myIDs(addr: string): string[] {
  try {
    const v = JSON.parse(localStorage.getItem(`vm-ids-${addr}`) ?? "[]");
    return Array.isArray(v) ? v.filter((x) => typeof x === "string") : [];
  } catch {
    return [];
  }
}

export function rememberID(addr: string, name: string): void {
  const have = myIDs(addr);
  if (!have.includes(name)) localStorage.setItem(`vm-ids-${addr}`, JSON.stringify([...have, name].sort()));
}
