#!/usr/bin/env bash
# Regenerates the protobuf-c code for ModelPort's ONNX schema:
#   Sources/CONNXProto/onnx.proto  ->  Sources/CONNXProto/onnx.pb-c.c
#                                      Sources/CONNXProto/include/onnx.pb-c.h
# Needs protoc-c (Debian protobuf-c-compiler, installed by tools/setup.sh).
# The output is committed, so ordinary builds never run this.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$repo/Sources/CONNXProto"
command -v protoc-c >/dev/null || { echo "regenerate_onnx_proto.sh: protoc-c not found (apt-get install protobuf-c-compiler)" >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$dir" && protoc-c --c_out="$tmp" onnx.proto)
mv "$tmp/onnx.pb-c.c" "$dir/onnx.pb-c.c"
mv "$tmp/onnx.pb-c.h" "$dir/include/onnx.pb-c.h"
echo "regenerated $dir/onnx.pb-c.c and include/onnx.pb-c.h with $(protoc-c --version | head -1)"
