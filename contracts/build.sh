#!/bin/sh
# Builds every example contract to contracts/build/<name>.wasm (or $1/).
# Usage: contracts/build.sh [outdir]
set -eu
case "${1:-}" in -*) echo "usage: $0 [outdir]" >&2; exit 2 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
mkdir -p "$out"
for dir in "$here"/examples/*/; do
	name=$(basename "$dir")
	[ -f "$dir/main.go" ] || continue
	(cd "$dir" && GOOS=wasip1 GOARCH=wasm CGO_ENABLED=0 \
		go build -buildmode=c-shared -trimpath -o "$out/$name.wasm" .)
	echo "$out/$name.wasm"
done
