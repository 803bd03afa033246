"""torch.nn.LayerNorm forward + backward, single-threaded: the CPU baseline of `atn bench` (bench/torch.ts).

usage: python3 torch_ln.py T B H WARMUP RUNS  ->  one JSON line {"torch": version, "ms": median, "threads": 1}
"""
import json
import sys
import time

try:
    import torch
except ImportError:
    print(json.dumps({"absent": "torch cannot be imported"}))
    sys.exit(0)

T, B, H, warmup, runs = (int(v) for v in sys.argv[1:6])
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


for _ in range(warmup):
    once()
ts = sorted(once() for _ in range(runs))
n = len(ts)
med = ts[n // 2] if n % 2 else (ts[n // 2 - 1] + ts[n // 2]) / 2
print(json.dumps({"torch": torch.__version__, "ms": med, "threads": torch.get_num_threads()}))
