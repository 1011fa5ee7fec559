#!/bin/sh
# Builds every example contract to contracts/build/<name>.wasm and the
# IDChain system contract to contracts/system/idchain.wasm (the module
# embedded in the node; genesis pins its CID). With an outdir, everything
# goes to outdir/<name>.wasm instead and the committed files are untouched.
# The flags make the bytes reproducible (no checkout path, VCS stamp or
# build ID); examples.BuildPackage uses the same ones and
# contracts/system's test checks the embedded module against a fresh build.
# Usage: contracts/build.sh [outdir]
set -eu
case "${1:-}" in -*) echo "usage: $0 [outdir]" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
sysout=${1:-$here/system}
mkdir -p "$out" "$sysout"
build() { # build <srcdir> <out.wasm>
	(cd "$1" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 \
		go build -buildmode=c-shared -trimpath -buildvcs=false -ldflags=-buildid= -o "$2" .)
	echo "$2"
}
for dir in "$here"/examples/*/; do
	name=$(basename "$dir")
	[ -f "$dir/main.go" ] || continue
	build "$dir" "$out/$name.wasm"
done
build "$here/idchain" "$sysout/idchain.wasm"
