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

export interface Result {
  request_id: string;
  status: string;
  exec_status?: string;
  output: string | null; // base64
  error?: string;
  gas_used: number;
  cost: string;
  refund: string;
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
  result: (id: string) => call<Result>(`/v1/results/${id}`),

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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
