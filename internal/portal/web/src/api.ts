// The node's HTTP API, same origin. Answers are the JSON shapes of
// internal/apitype; errors are {code, message}.

export interface Location {
  chain_id: string;
  height: number;
  namespace: string;
  key: string;
  value: string;
  app_hash: string;
  proof: string;
}

export interface Status {
  chain_id: string;
  latest_height: number;
  faucet_enabled: boolean;
  min_fee: string;
  id_create_fee?: string;
}

export interface Account {
  address: string;
  balance: string;
  nonce: number;
  height: number;
}

export interface SubmitResult {
  hash: string;
  code: number;
  log?: string;
  height?: number;
}

export interface Payment {
  miner: string;
  reward: string;
  gas: string;
}

export interface Result {
  request_id: string;
  status: string;
  contract: string;
  fn: string;
  requester: string;
  exec_status?: string;
  output: string | null; // base64
  error?: string;
  logs?: string[] | null;
  gas_used: number;
  cost: string;
  refund: string;
  paid: Payment[] | null;
  disagreed?: string[] | null;
  unrevealed?: string[] | null;
  rounds: number;
  memo: boolean;
  settled: number;
  location?: Location;
}

export interface ID {
  id: string;
  owner: string;
  pubkey: string;
  controllers: string[];
  attrs: Record<string, string> | null;
  created: number;
  updated: number;
  height: number;
  location?: Location;
}

export interface IDRecord {
  id: string;
  key: string;
  value?: string;
  private?: boolean;
  ciphertext?: string; // base64 age file
  readers?: string[];
  by: string;
  updated: number;
  height: number;
  location?: Location;
}

export interface AccountTx {
  hash: string;
  height: number;
  index: number;
  time: string;
  code: number;
  log?: string;
  events?: Event[];
}

export interface Latency {
  p50: number;
  p90: number;
  p99: number;
  samples: number;
}

export interface StatsBucket {
  start: number;
  calls: number;
  ok: number;
  failed: number;
  by_status?: Record<string, number>;
  gas_used: number;
  latency_ms: Latency;
}

export interface ContractStats {
  name: string;
  from: number;
  to: number;
  step: number;
  buckets: StatsBucket[];
  totals: StatsBucket;
}

export interface ContractResult {
  request_id: string;
  contract: string;
  fn: string;
  status: string;
  exec_status?: string;
  gas_used: number;
  height: number;
  included: number;
  time: string;
  latency_ms: number;
}

export interface Event {
  type: string;
  attributes?: Record<string, string>;
}

export interface Block {
  height: number;
  hash: string;
  time: string;
  app_hash: string;
  proposer: string;
  num_txs: number;
  tx_hashes: string[] | null;
}

export interface Tx {
  hash: string;
  height: number;
  index: number;
  code: number;
  log?: string;
  events?: Event[];
  tx: string;
  body?: unknown;
}

export interface TxResult {
  hash: string;
  height: number;
  index: number;
  code: number;
  log?: string;
  events?: Event[];
}

export interface StreamEvent {
  type: string;
  block?: Block;
  txs?: TxResult[];
  events?: Event[];
}

export interface Contract {
  name: string;
  owner: string;
  maintainers: string[] | null;
  latest: string;
  versions: number;
  created: number;
  updated: number;
  description?: string;
  tags?: string[];
  composite: boolean;
}

export interface ContractList {
  contracts: Contract[];
  next?: string;
}

export interface FunctionSpec {
  name: string;
  description?: string;
  input?: Schema;
  output?: Schema;
}

export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
  enum?: unknown[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

export interface ContractVersion {
  name: string;
  version: string;
  code_hash: string;
  owner: string;
  publisher: string;
  seq: number;
  code_size: number;
  metered_size: number;
  exports?: string[];
  interface?: { functions: FunctionSpec[] };
  manifest?: unknown;
  description?: string;
  tags?: string[];
  published: number;
  yanked: boolean;
}

export interface Seal {
  miner: string;
  height: number;
  revealed: boolean;
}

export interface MarketRequest {
  id: string;
  requester: string;
  contract: string;
  name: string;
  version: string;
  fn: string;
  input: string | null; // base64
  gas_limit: string;
  price: string;
  reward: string;
  replicas: number;
  quorum: number;
  included: number;
  deadline: number;
  escrow: string;
  round: number;
  status: string;
  phase: string;
  seals: Seal[] | null;
  tx_hash: string;
  height: number;
}

export interface Miner {
  address: string;
  kind: string;
  capacity: number;
  endpoint?: string;
  min_gas: string;
  software_version?: string;
  active: boolean;
  registered: number;
  jobs_taken: number;
  agreed: number;
  disagreed: number;
  timed_out: number;
  earned: string;
}

// ApiError is an answer other than 2xx, or no answer. code is the
// ledger's kind name ("invalid", "not_found", "insufficient_funds", ...).
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

// The ledger's kinds by number, as a SubmitResult's code carries them
// (internal/vmerr Kind, append-only; a Go test checks this list).
const kinds = [
  "ok", "internal", "invalid", "decode", "unauthorized", "wrong_chain", "bad_nonce",
  "insufficient_funds", "too_large", "not_found", "exists", "disabled", "limit", "overflow",
  "unavailable", "timeout",
];

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  let r: Response;
  try {
    r = await fetch(path, init);
  } catch (e) {
    throw new ApiError("unavailable", `the node did not answer (${e instanceof Error ? e.message : e})`, 0);
  }
  const text = await r.text();
  let body: unknown;
  try {
    body = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new ApiError("decode", `the node answered ${path} with something that is not JSON`, r.status);
  }
  if (!r.ok) {
    const b = body as { code?: string; message?: string; log?: string };
    if (typeof b.code === "number") throw refused(body as SubmitResult, r.status);
    throw new ApiError(b.code ?? "internal", b.message ?? `${path}: HTTP ${r.status}`, r.status);
  }
  return body as T;
}

function refused(res: SubmitResult, status: number): ApiError {
  return new ApiError(kinds[res.code] ?? String(res.code), res.log || `transaction refused (code ${res.code})`, status);
}

export const api = {
  status: () => call<Status>("/v1/status"),
  account: (addr: string) => call<Account>(`/v1/accounts/${addr}`),
  id: (name: string) => call<ID>(`/v1/ids/${encodeURIComponent(name)}`),
  records: (id: string, after?: string) =>
    call<{ records: IDRecord[]; next?: string }>(`/v1/ids/${encodeURIComponent(id)}/records` + (after ? `?after=${encodeURIComponent(after)}` : "")),
  record: (id: string, key: string) => call<IDRecord>(`/v1/ids/${encodeURIComponent(id)}/records/${key.split("/").map(encodeURIComponent).join("/")}`),
  result: (id: string) => call<Result>(`/v1/results/${id}`),
  request: (id: string) => call<MarketRequest>(`/v1/requests/${id}`),
  block: (h: number) => call<Block>(`/v1/blocks/${h}`),
  tx: (hash: string) => call<Tx>(`/v1/txs/${hash}`),
  contracts: (q: { query?: string; tag?: string; after?: string }) =>
    call<ContractList>("/v1/contracts?" + new URLSearchParams(Object.entries(q).filter(([, v]) => v) as [string, string][])),
  contract: (name: string) => call<Contract>(`/v1/contracts/${encodeURIComponent(name)}`),
  versions: (name: string) => call<{ versions: ContractVersion[] }>(`/v1/contracts/${encodeURIComponent(name)}/versions`),
  history: (addr: string, before?: string) =>
    call<{ txs: AccountTx[]; next?: string }>(`/v1/accounts/${addr}/txs?limit=20` + (before ? `&before=${before}` : "")),
  stats: (name: string, from: number, to: number, step: number) =>
    call<ContractStats>(`/v1/contracts/${encodeURIComponent(name)}/stats?from=${from}&to=${to}&step=${step}`),
  contractResults: (name: string, before?: string) =>
    call<{ results: ContractResult[]; next?: string }>(`/v1/contracts/${encodeURIComponent(name)}/results?limit=20` + (before ? `&before=${before}` : "")),
  miner: (a: string) => call<Miner>(`/v1/miners/${a}`),
  minerStats: (a: string, from: number, to: number, step: number) =>
    call<ContractStats>(`/v1/miners/${a}/stats?from=${from}&to=${to}&step=${step}`),
  miners: (after?: string) => call<{ miners: Miner[]; next?: string }>("/v1/miners" + (after ? `?after=${after}` : "")),

  // submit sends an encoded, signed tx and waits for its block. A refusal
  // throws ApiError with the ledger's message.
  async submit(tx: Uint8Array<ArrayBuffer>): Promise<SubmitResult> {
    const res = await call<SubmitResult>("/v1/txs?wait=commit", {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: tx,
    });
    if (res.code !== 0) throw refused(res, 200);
    return res;
  },
};

// exists reports whether name is an ID; other errors (a name the node
// refuses as invalid, say) are thrown.
export async function lookupID(name: string): Promise<ID | null> {
  try {
    return await api.id(name);
  } catch (e) {
    if (e instanceof ApiError && e.code === "not_found") return null;
    throw e;
  }
}

// blocks streams committed blocks (with their tx results) over the API's
// WebSocket until the returned function is called; it reconnects after a
// drop.
export function blocks(on: (ev: StreamEvent) => void): () => void {
  let ws: WebSocket | null = null;
  let stopped = false;
  let delay = 250;
  const connect = () => {
    const u = new URL("/v1/events?batch=block", location.href);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(u);
    ws.onmessage = (m) => {
      delay = 250;
      on(JSON.parse(m.data as string) as StreamEvent);
    };
    ws.onclose = () => {
      if (!stopped) setTimeout(connect, (delay = Math.min(delay * 2, 5000)));
    };
  };
  connect();
  return () => {
    stopped = true;
    ws?.close();
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
