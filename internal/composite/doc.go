// Package composite owns contract interfaces and composite contracts.
//
// An Interface lists the functions a contract version exports, each with
// optional JSON Schemas (draft 2020-12) of its input and output; schemas are
// compiled offline only, never fetching a remote reference. A Manifest is the
// code-less body of a composite contract: steps, each "name@range" + function
// + a Source that builds the step's input from the call input and earlier
// step outputs with JSON Pointers (RFC 6901). ParseManifest checks the shape
// and refuses cycles, Pin resolves and pins every step's exact version and
// refuses provably incompatible schemas, and Run executes a pinned manifest
// as one metered call on a wasm.Runtime: steps in topological order, one
// shared gas budget, writes visible to later steps through an overlay and
// kept only when every step succeeds.
//
// The package is deterministic: equal inputs give byte-identical canonical
// encodings and results on every machine. The user-facing format reference
// is docs/COMPOSITES.md.
package composite
