#!/usr/bin/env bash
# Regenerates the protobufjs static code for the OTLP .proto files kept in src/otlp/proto.
set -euo pipefail
cd "$(dirname "$0")/.."
root=src/otlp/proto
out=src/otlp/generated
files=$(cd "$root" && find opentelemetry -name '*.proto' | sort)
(cd "$root" && npx pbjs -t static-module -w es6 --no-verify --no-delimited --no-service -o ../generated/otlp.js $files)
# node's ESM resolver needs the file extension on the protobufjs subpath import
sed -i 's#from "protobufjs/minimal"#from "protobufjs/minimal.js"#' "$out/otlp.js"
npx pbts -o "$out/otlp.d.ts" "$out/otlp.js"
