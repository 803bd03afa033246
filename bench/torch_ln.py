"""torch.nn.LayerNorm forward + backward, single-threaded: the CPU baseline of `atn bench` (bench/torch.ts).

usage: python3 torch_ln.py T B H WARMUP
  prints one JSON line {"torch": version, "threads": 1} once set up and warmed up (or {"absent": why}), then for each
  line N read from stdin times N runs and prints {"ms": median}; exits at the end of stdin. The bench asks for a round
  of torch runs between its rounds of ATN runs, so that both see the same state of the machine.
"""
import json
import sys
import time

try:
    import torch
except ImportError:
    print(json.dumps({"absent": "torch cannot be imported"}), flush=True)
    sys.exit(0)

T, B, H, warmup = (int(v) for v in sys.argv[1:5])
torch.set_num_threads(1)
torch.manual_seed(3)
x = torch.randn(T, B, H, requires_grad=True)
dy = torch.randn(T, B, H)
ln = torch.nn.LayerNorm(H, eps=1e-5)


def once():
    t0 = time.perf_counter()
    y = ln(x)
    y.backward(dy)
    ms = (time.perf_counter() - t0) * 1000
    x.grad = None
    ln.zero_grad()
    return ms


def median(ts):
    ts = sorted(ts)
    n = len(ts)
    return ts[n // 2] if n % 2 else (ts[n // 2 - 1] + ts[n // 2]) / 2


for _ in range(warmup):
    once()
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads()}), flush=True)
for line in sys.stdin:
    runs = int(line)
    for _ in range(2):  # back on hot data after the bench's own runs
        once()
    print(json.dumps({"ms": median([once() for _ in range(runs)])}), flush=True)
