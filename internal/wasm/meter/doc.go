// Package meter validates a WebAssembly module and rewrites it to meter its
// own gas, bound its own call depth and canonicalise observable NaNs, so
// that every engine (wazero's compiler and interpreter, a browser's
// WebAssembly engine) produces byte-identical results and gas. Gas is a
// property of the rewritten bytecode, never of the engine.
//
// This comment is the specification of the rewrite; the JavaScript copy of
// the runtime relies on it. Instrument implements it.
//
// # Accepted input
//
// WebAssembly Core 2.0 binary modules (version 1) without SIMD: bulk memory,
// reference types, multi-value, sign extension, non-trapping float-to-int
// and mutable globals are accepted. Refused as ErrUnsupported: SIMD (0xFD
// prefix, v128), threads and atomics (0xFE prefix, shared limits), tail
// calls (return_call, return_call_indirect, return_call_ref), exception
// handling (try, catch, throw, rethrow, delegate, try_table, tag section),
// multi-memory, memory64, typed function references and GC. Refused as
// ErrImport: memory, table, global and tag imports, function imports with
// f32/f64 parameters or results, and function imports AllowImport refuses.
// Refused as ErrInvalid: any export name starting with "vm_", and anything
// wazero's validator rejects. Refused as ErrLimit: modules beyond the
// Config limits, and modules whose metered form would be larger than twice
// the original plus 256 KiB (MaxMeteredSize). Custom sections (including
// "name") are dropped.
//
// # Added globals and exports
//
// Three mutable globals are appended after the original's globals (global
// imports are refused, so their indices are G, G+1, G+2 where G is the
// number of globals the original defines; original code cannot name them):
//
//	vm_gas     i64  gas left; the runtime stores the call's gas limit here
//	                (0 <= gas <= MaxGas = 2^62) and reads it back after
//	vm_status  i32  0 StatusOK, 1 StatusOutOfGas, 2 StatusCallDepth
//	vm_depth   i32  number of counted function frames currently active
//	                (see "Function prologue and epilogue")
//
// Before each top-level call the runtime sets vm_gas and resets vm_status
// and vm_depth to 0 (a trap leaves vm_depth where it was). After a normal
// return vm_status is 0, vm_depth is 0 and vm_gas >= 0; gas used is the
// limit minus vm_gas. After a trap, vm_status tells why: 1 out of gas (the
// charge that failed has been subtracted, so vm_gas < 0; gas used is the
// whole limit), 2 call depth exceeded, 0 any other trap (unreachable, bad
// memory access, division by zero, ...). Other exports added:
//
//	vm_start   the original start function, if any. The start section is
//	           removed, so instantiation runs nothing; the runtime calls
//	           vm_start once, with gas set, right after instantiating.
//	vm_memory  memory 0, if the module defines one
//	vm_table   table 0, if the module defines one
//	vm_g<i>    every mutable global the original defines, <i> its index in
//	           decimal (for example vm_g0): the runtime snapshots and
//	           restores an instance through these and vm_memory/vm_table
//
// The original exports are kept unchanged.
//
// A memory or table declared without a maximum gets Config.MaxMemoryPages
// or Config.MaxTableSize as its maximum, so memory.grow and table.grow fail
// (return -1) at the same size in every engine.
//
// # Function prologue and epilogue
//
// Before the rewrite, every defined function is classified by a pre-scan of
// the original bodies:
//
//   - It has early exits if its body contains a return, or a br, br_if or
//     br_table that can target the function's own label (a br_table whose
//     largest label is the function label).
//   - It is opaque if its body contains a call_indirect or a call of an
//     imported function.
//   - Its height is infinite if it is opaque, calls itself or is part of a
//     cycle of direct calls, or calls a function of infinite height;
//     otherwise it is 1 + the largest height of the functions it calls
//     directly (1 if it calls none).
//   - It is uncounted if its height is at most MaxUncountedHeight (8), and
//     counted otherwise.
//
// An uncounted function therefore calls only uncounted functions, directly,
// and never the host or the table, so it can never be re-entered while it
// is active, and the uncounted frames on any stack form one run at its top
// of at most MaxUncountedHeight frames. Real wasm frames are thus at most
// MaxCallDepth + MaxUncountedHeight, a function of the module only.
//
// A counted function body B with results R becomes
//
//	global.get $depth  local.tee $t  i32.const 1  i32.add  global.set $depth
//	block (type [] -> R)    ;; only if the function has early exits
//	  <entry charge>        ;; see "Metered blocks and charges"
//	  B'                    ;; B rewritten, its final end removed
//	end                     ;; only if the function has early exits
//	local.get $t  global.set $depth
//	[canonicalise f32/f64 results, see below]
//	end
//
// $t holds vm_depth at entry; on every normal exit the callees have
// restored vm_depth to $t + 1, so storing $t restores it. The entry charge
// is the charge of the function's first metered block (cost c, including
// Costs.FuncEntry) merged with the depth check, so one branch serves both:
//
//	global.get $gas  i64.const c  i64.sub  local.tee $g  global.set $gas
//	local.get $g  i32.const MaxCallDepth-1  local.get $t  i32.sub
//	i64.extend_i32_s  i64.or  i64.const 0  i64.lt_s
//	if
//	  i32.const 2  i32.const 1  local.get $t  i32.const MaxCallDepth  i32.ge_u
//	  select  global.set $status  unreachable
//	end
//
// that is: trap if the new gas is negative or the new depth $t + 1 is above
// MaxCallDepth, with status 2 if the depth is above MaxCallDepth, else 1.
//
// An uncounted function has no depth code: its body is only wrapped (if it
// has early exits), its entry charge is the plain charge below, and the
// epilogue is only the result canonicalisation.
//
// With the wrapper block, B' sits in a block of the function's result type,
// so every branch to the function label (br, br_if, br_table with any
// target at the function's depth) lands on the epilogue without
// renumbering, and every return in B is rewritten to "br <depth of the
// wrapper block>", which has the same typing. So the depth is restored on
// every normal exit. A function without early exits leaves only through
// its final end, where the epilogue follows directly. vm_depth counts frames
// of counted functions; imported (host) functions and uncounted functions
// are not counted. The first call that makes the depth MaxCallDepth+1 traps
// with status 2 before running any of its original code (its entry charge
// has been subtracted); vm_depth is then MaxCallDepth+1.
//
// New locals are appended after the original's (indices unchanged): $g i64,
// $t i32, $n i32 (the scratch of dynamic charges), then $f32 f32 and $f64
// f64 and one spill local per result when needed, declared in that order
// and only as far as used.
//
// # Metered blocks and charges
//
// The original body is cut into metered blocks. A new metered block starts
//
//   - at function entry (after the prologue and the wrapper block, if any);
//   - after loop (the loop body, entered on every iteration);
//   - after if (then-arm) and after else (else-arm), unless the if is folded;
//   - after the end of an if that is not folded;
//   - after the end of a block that some br, br_if or br_table targets;
//   - after the end of any block or loop when the current metered block
//     contains a br_if (so code after the end is not charged again on every
//     early exit, typically every loop iteration);
//   - after br, br_table, return and unreachable.
//
// Any other end (of a loop, or of a block no branch targets, reached by
// falling through straight-line code) continues the current metered block.
// An if is folded when both arms are straight-line: they contain no block,
// loop, if, br, br_if, br_table, return or unreachable. A folded if starts
// no metered block; the enclosing block is charged
// max(cost(then-arm) + cost(else), cost(else-arm)) + cost(end) for it.
// block and br_if do not start a metered block: a br_if that leaves early
// has still paid for the rest of its block. Code after br, br_table, return
// or unreachable is unreachable up to the next else or the next end that
// starts a metered block; its metered blocks get no charge.
//
// The static cost of a metered block is the sum of Config.Costs of its
// original instructions (plus Costs.FuncEntry for the entry block); code
// inserted by the rewrite is free. A reachable metered block with static
// cost c > 0 (or any cost, at function entry and at a loop header) starts
// with
//
//	global.get $gas  i64.const c  i64.sub  local.tee $g  global.set $gas
//	local.get $g  i64.const 0  i64.lt_s
//	if  i32.const 1  global.set $status  unreachable  end
//
// (at the entry of a counted function, the merged form above), so every
// charge is also a
// check: vm_gas never stays negative while original code runs. Branch costs and FuncEntry are at least 1
// (Config.Validate), so every loop iteration and every call pays.
//
// # Dynamic charges
//
// Immediately before memory.grow, memory.copy, memory.fill, memory.init,
// table.copy, table.fill, table.init and table.grow, whose length operand
// n (i32) is on top of the stack, the rewrite inserts
//
//	local.tee $n  global.get $gas  local.get $n  i64.extend_i32_u
//	i64.const k  i64.mul  i64.sub  local.tee $g  global.set $gas
//	local.get $g  i64.const 0  i64.lt_s  if <out of gas> end
//
// with k = MemoryGrowCostPerPage (per page requested, charged even if the
// grow fails), BulkCostPerByte (memory.copy/fill/init, per byte) or
// TableCostPerElem (table ops, per element). k = 0 inserts nothing. The
// charge happens before the operation, so an operation that then traps
// (out of bounds) has paid.
//
// # NaN canonicalisation
//
// Engines may return any NaN bit pattern (sign and payload) from float
// arithmetic. The rewrite replaces a NaN by the canonical NaN (f32
// 0x7FC00000, f64 0x7FF8000000000000: positive, quiet, zero payload) at
// every point where NaN bits become observable, and nowhere else:
//
//   - the value operand of f32.store and f64.store;
//   - the operand of i32.reinterpret_f32 and i64.reinterpret_f64;
//   - the second (sign) operand of f32.copysign and f64.copysign;
//   - the operand of global.set on an f32/f64 global (vm_g<i> exports let
//     the runtime read it);
//   - the f32/f64 results of every defined function, in its epilogue
//     (exported functions return them to the host);
//   - float parameters and results of imports are refused instead.
//
// The sequence for a value x of type fN on top of the stack is
//
//	local.set $fN  local.get $fN  local.get $fN  fN.ne
//	if  fN.const canonical  local.set $fN  end
//	local.get $fN
//
// Why the set is complete: inside WebAssembly, every other instruction
// either maps a NaN operand to a NaN result (arithmetic, sqrt, min/max,
// rounding, promote/demote, neg, abs, select, locals, block results), or
// depends only on whether an operand is a NaN (comparisons, trunc traps,
// trunc_sat gives 0), never on its bits. The only ways bits leave the float
// domain are reinterpretation, a store to memory (then loaded as integers
// or read by the host), the sign transfer of copysign (copysign(1, NaN)
// is ±1 depending on the NaN's sign) and the host boundary (function
// results, globals, host-call arguments). Bulk memory operations copy
// bytes that were already canonicalised when stored; data segments and
// constants are fixed bytes. Deviation from the original semantics, which
// is deterministic: a NaN stored, reinterpreted, returned or used as a
// copysign sign is always the positive canonical NaN, even one that the
// original would have produced with a specific sign or payload (for
// example f64.neg of a constant NaN).
//
// # Index spaces
//
// No function, table, memory, element or data index changes. Types are only
// appended (a [] -> R function type when a wrapper block needs more than one
// result), globals only appended, locals only appended. Because the
// rewrite also refuses original code that names a local, global, type or
// label index beyond what the original declares (such code is invalid but
// would name the new entities), the metered module validating in wazero
// implies the original is valid.
package meter
