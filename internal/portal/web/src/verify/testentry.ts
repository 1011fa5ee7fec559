// The verifier's test entry point: bundled on its own by
// bundle.BuildEntry for internal/cli's browser tests, which evaluate it
// in a portal page to call the verifier with tampered inputs. main.ts
// never imports it, so the portal's bundle has no such global.

import { decodeProof, verifyMembership } from "./ics23";
import { decodeLightBlock } from "./light";
import { fetchCommit, fetchGenesis, parseGenesis, pinnedTrust } from "./trust";
import { verifyLocation, VerifyError } from "./verify";

Object.assign(globalThis, {
  vmVerifyTest: { decodeProof, verifyMembership, decodeLightBlock, fetchCommit, fetchGenesis, parseGenesis, pinnedTrust, verifyLocation, VerifyError },
});
