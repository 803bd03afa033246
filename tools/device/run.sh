#!/usr/bin/env bash
# run.sh (in the folder tools/device/pack.sh built) — on the GPU machine: the setup of ../shared/device's check
# (node unpacked, the Vulkan loader, NVIDIA's ICD, library fixes; its own quick tfjs probe, no wasm baseline), then
#     atn bench --backend webgpu --json-only      -> $OUT/bench-webgpu.json (op: fused WGSL kernels beside op-by-op
#                                                    tfjs ops and tfjs's LN; ATN-LSTM training steps)
#     atn report --backend webgpu --runs N        -> $OUT/report-webgpu/ (the campaign on the GPU's float32)
# Knobs: BENCH_TIMEOUT (s, 240), REPORT_TIMEOUT (s, 200), RUNS (50), BENCH_FLAGS (e.g. --quick), REPORT_FLAGS (e.g.
# --ftz, for a GPU that flushes subnormals: the first run says whether it does), WORKDIR, DEB_ROOT.
set -u
C="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$C/out}"; mkdir -p "$OUT"
export WORKDIR="${WORKDIR:-/tmp/wgpu-check}"
MODE=quick SKIP_WASM=1 WGPU_TIMEOUT="${WGPU_TIMEOUT:-90}" bash "$C/webgpu-device-check.sh" "$C" > "$OUT/setup.log" 2>&1
echo "setup: exit $? ($(grep -c . "$OUT/setup.log") lines in $OUT/setup.log)"
W="$WORKDIR"
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for j in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$j" ]; then export VK_DRIVER_FILES="$j"; break; fi
  done
fi
[ -n "$(ls -A "$W/fixlibs" 2>/dev/null)" ] && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$W/fixlibs"
rm -rf "$W/atn" && cp -r "$C/atn" "$W/atn" && ln -sfn "$W/bench/node_modules" "$W/atn/node_modules"
cd "$W/atn"
echo "node $("$W/node" --version), VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
timeout "${BENCH_TIMEOUT:-240}" "$W/node" atn.mjs bench --backend webgpu --json-only --campaign-runs 0 ${BENCH_FLAGS:-} \
  > "$OUT/bench-webgpu.json" 2> "$OUT/bench-webgpu.err"
echo "bench: exit $?"; tail -c 3000 "$OUT/bench-webgpu.json"; echo
timeout "${REPORT_TIMEOUT:-200}" "$W/node" atn.mjs report --backend webgpu --runs "${RUNS:-50}" --out "$OUT/report-webgpu" ${REPORT_FLAGS:-} \
  > "$OUT/report-webgpu.txt" 2>&1
echo "report: exit $?"; grep -v 'Warning\|^    at ' "$OUT/report-webgpu.txt" | head -8
