// App is the portal's state: the key store, the chosen key and the
// chain's parameters, and the one way a page sends a transaction.

import { api, ApiError, sleep, type Result, type Status } from "./api";
import { fromBase64 } from "./bytes";
import { Store, type Key } from "./keys";
import { requestID, sign, type Msg, type Request } from "./tx";

export class App {
  keys: Key[] = [];
  private always: (() => void)[] = [];
  private page: (() => void)[] = [];
  private leave: (() => void)[] = [];

  private constructor(
    readonly store: Store,
    public status: Status,
  ) {}

  static async open(): Promise<App> {
    const [store, status] = await Promise.all([Store.open(), api.status()]);
    const app = new App(store, status);
    await app.reload();
    return app;
  }

  // active is the key that signs: the one chosen last, else the first.
  get active(): Key | undefined {
    const name = localStorage.getItem("vm-active-key");
    return this.keys.find((k) => k.name === name) ?? this.keys[0];
  }

  choose(name: string): void {
    localStorage.setItem("vm-active-key", name);
    this.changed();
  }

  async reload(): Promise<void> {
    this.keys = (await this.store.list()).sort((a, b) => a.name.localeCompare(b.name));
    this.changed();
  }

  // onChange runs fn after keys or balances may have changed: until the
  // next page is shown, or always.
  onChange(fn: () => void, always = false): void {
    (always ? this.always : this.page).push(fn);
  }

  // onLeave runs fn when the current page is left (to close a stream).
  onLeave(fn: () => void): void {
    this.leave.push(fn);
  }

  // newPage drops the listeners of the page being left and runs its
  // onLeave functions.
  newPage(): void {
    this.page = [];
    for (const fn of this.leave.splice(0)) fn();
  }

  changed(): void {
    for (const fn of [...this.always, ...this.page]) fn();
  }

  need(): Key {
    const k = this.active;
    if (!k) throw new Error("make or import a key first (Keys page)");
    return k;
  }

  // balance is the active key's GAS and nonce; an account the chain has
  // never seen has none.
  async account(addr: string): Promise<{ balance: bigint; nonce: bigint }> {
    try {
      const a = await api.account(addr);
      return { balance: BigInt(a.balance), nonce: BigInt(a.nonce) };
    } catch (e) {
      if (e instanceof ApiError && e.code === "not_found") return { balance: 0n, nonce: 0n };
      throw e;
    }
  }

  // send signs msgs with the active key at its next nonce and waits for
  // the block; it returns the tx hash. Sends run one at a time, so two
  // forms never sign with the same nonce. A node that gave up waiting has
  // still accepted the tx: then it is looked up until it commits.
  send(msgs: Msg[], fee: bigint): Promise<string> {
    const run = this.sending.then(() => this.sendNow(msgs, fee));
    this.sending = run.catch(() => {});
    return run;
  }

  private sending: Promise<unknown> = Promise.resolve();

  private async sendNow(msgs: Msg[], fee: bigint): Promise<string> {
    const k = this.need();
    const { nonce } = await this.account(k.address);
    const { tx, hash } = await sign({ chainID: this.status.chain_id, nonce, fee, msgs }, k);
    try {
      await api.submit(tx);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === "timeout")) throw e;
      await committed(hash);
    }
    this.changed();
    return hash;
  }

  // request sends one Request and waits up to timeoutMs for its result.
  async request(req: Request, fee: bigint, onSent?: (id: string) => void, timeoutMs = 120_000): Promise<Result> {
    const hash = await this.send([{ request: req }], fee);
    const id = await requestID(hash);
    onSent?.(id);
    const end = Date.now() + timeoutMs;
    for (let wait = 50; Date.now() < end; wait = Math.min(wait * 2, 500)) {
      try {
        const r = await api.result(id);
        this.changed();
        return r;
      } catch (e) {
        if (!(e instanceof ApiError && e.code === "not_found")) throw e;
      }
      await sleep(wait);
    }
    throw new Error(`request ${id}: no result within ${timeoutMs / 1000} s`);
  }

  // afford throws, naming what, unless the active key holds need GAS: a
  // form checks this before it signs anything.
  async afford(need: bigint, what: string): Promise<void> {
    const { balance } = await this.account(this.need().address);
    if (balance < need) throw new Error(`not enough GAS: ${what} needs up to ${gas(need)}; you have ${gas(balance)}`);
  }

  minFee(): bigint {
    return BigInt(this.status.min_fee);
  }
}

// committed polls for an accepted tx until its block, up to two minutes;
// a tx the block refused throws the ledger's message.
async function committed(hash: string): Promise<void> {
  const end = Date.now() + 120_000;
  while (Date.now() < end) {
    try {
      const t = await api.tx(hash);
      if (t.code !== 0) throw new ApiError("refused", t.log ?? `refused (code ${t.code})`, 200);
      return;
    } catch (e) {
      if (!(e instanceof ApiError && e.code === "not_found")) throw e;
    }
    await sleep(250);
  }
  throw new Error(`transaction ${hash} was accepted but not committed within two minutes`);
}

export function decodeOutput(r: Result): unknown {
  if (r.exec_status !== "ok") {
    throw new Error(`the contract refused (${r.exec_status ?? r.status}): ${r.error ?? "no message"}`);
  }
  return JSON.parse(new TextDecoder().decode(fromBase64(r.output ?? "")));
}

export function gas(v: bigint | string): string {
  return BigInt(v).toLocaleString("en-US") + " GAS";
}
