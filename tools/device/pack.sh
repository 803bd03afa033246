#!/usr/bin/env bash
# tools/device/pack.sh OUT_DIR — build, here (npm registry and Debian reachable), the folder a GPU machine needs to
# run this project's webgpu bench and campaign: the carry of ../shared/device (Node, the Vulkan/GL loader .debs,
# a trimmed node_modules with dawn.node, and its setup script), plus
#     atn/atn.mjs       the `atn report` and `atn bench` commands bundled by esbuild into one ES module
#                       (entry: tools/device/entry.cjs), with tfjs-backend-wasm's .wasm files, package.json and
#                       bench/torch_ln.py beside it
#     run.sh            the one command to run there (tools/device/run.sh)
# OUT_DIR must sit in the working tree and be git-ignored (.gitignore has /.gpu-carry/); carry it whole (device tool: carry).
# Run `npm install` (dist/ built) first. Dry run of the result on this machine: DEB_ROOT=/tmp/x OUT=/tmp/o bash OUT_DIR/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${1:?usage: tools/device/pack.sh OUT_DIR}"
SHARED="${SHARED_DEVICE:-$ROOT/../shared/device}"
[ -f "$SHARED/webgpu-device-pack.sh" ] || { echo "pack.sh: $SHARED/webgpu-device-pack.sh not found (set SHARED_DEVICE)"; exit 2; }
[ -f "$ROOT/dist/cli/commands/report.js" ] || { echo "pack.sh: dist/ is missing; run npm install first"; exit 2; }
mkdir -p "$OUT_DIR"; OUT_DIR="$(cd "$OUT_DIR" && pwd)"
bash "$SHARED/webgpu-device-pack.sh" "$OUT_DIR"

echo "== atn bundle (esbuild) -> $OUT_DIR/atn"
TMP="$(mktemp -d /tmp/atn-pack.XXXXXX)"; trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && echo '{"name":"atn-pack","private":true}' > package.json && npm install --no-audit --no-fund --loglevel=error esbuild@0.25.12 >/dev/null)
mkdir -p "$OUT_DIR/atn"
# ESM (vega, bundled for the report's plots, uses top-level await); require, __dirname and __filename as in CommonJS.
BANNER="import { createRequire as __cr } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = __cr(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
(cd "$ROOT" && "$TMP/node_modules/.bin/esbuild" tools/device/entry.cjs --bundle --platform=node --format=esm --target=node20 --minify \
  --log-level=error --external:webgpu --external:@tensorflow/tfjs-node --external:@tensorflow/tfjs-node-gpu --external:canvas \
  --banner:js="$BANNER" --outfile="$OUT_DIR/atn/atn.mjs")
cp "$ROOT"/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm*.wasm "$ROOT/package.json" "$ROOT/bench/torch_ln.py" "$OUT_DIR/atn/"
cp "$ROOT/tools/device/run.sh" "$OUT_DIR/run.sh"
echo "== total: $(du -sh "$OUT_DIR" | cut -f1) (the device tool carries at most 64 MiB)"
