#!/usr/bin/env python3
"""A protocol v1 port of ATN in plain Python 3 (standard library only): our second, independent implementation, used by
the tests so that the cross-process path (protocol/port.ts) runs in CI with no extra install.

    python3 ports/python/atn_server.py [--mutant ID]

Arithmetic is float64. With dtype float32 the inputs (eps included) are rounded to float32 on arrival and the outputs
on departure; in between the float64 computation is far more accurate than the float32 tolerance needs.
Numerical stability (ATN-7.2): each window is scaled by a power of two near its largest magnitude (exact), the mean
and the variance are two-pass with math.fsum, and a window whose eps dwarfs its scaled variance is handled without
overflow. --mutant ID injects one mistake of mutants/catalogue.ts (same ids), so that a campaign through this port
can be checked to name it.
"""

import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ inside the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atn_protocol import AtnError, f32, parse_atn, parse_atn_vjp, parse_ln, parse_lstm, serve  # noqa: E402

VERSION = "0.1.0"
DTYPES = ["float32", "float64"]

# Ids as in mutants/catalogue.ts.
MUTANTS = {
    "unbiased-variance": "variance divided by N-1 (unbiased) instead of N",
    "eps-outside-sqrt": "scale is sigma + eps instead of sqrt(var + eps)",
    "eps-dropped": "eps ignored: scale is sqrt(var)",
    "k-ignored": "k ignored: plain per-step LN statistics",
    "state-leak": "window state not reset between requests: the last request's final window is prepended",
    "gain-bias-swapped": "gain and bias swapped",
    "vjp-gain-forgotten": "atn.vjp: da computed from dy instead of gain*dy",
    "squeeze-singleton": "batch or feature dimension squeezed away when B = 1 or H = 1",
    "lstm-gate-order-ifog": "ATN-LSTM gates split in the order i,f,o,g",
    "lstm-no-cell-atn": "ATN-LSTM without the cell-state ATN: h = sigmoid(o) tanh(c)",
}

MUTANT = None
# state-leak: per (B, H) the last window of the previous request, as [steps][B][H].
_LEAK = {}


class Stats:
    """The statistics of one window (one sample, one t): z of every entry, and division by s = sqrt(var + eps)."""

    def __init__(self, vals, eps, t, b, arg="a"):
        N = len(vals)
        self.N = N
        lo, hi = min(vals), max(vals)
        if lo == hi:
            # var is exactly 0: z = 0 exactly (a float mean of equal values need not be exact).
            if eps == 0 or MUTANT == "eps-dropped":
                raise AtnError("degenerate_window", "ATN-6.6",
                               "%s: the window of step t=%d, sample b=%d (0-based) is constant (%d entries equal %r) and eps = 0, so var + eps = 0 (ATN-6.6)"
                               % (arg, t, b, N, lo), arg)
            self.z = [math.nan if MUTANT == "unbiased-variance" and N == 1 else 0.0] * N  # 0/0 for N - 1 = 0
            self._e, self._s, self._big = 0, math.sqrt(eps), True
            if MUTANT == "eps-outside-sqrt":
                self._s = eps
            return
        e = math.frexp(max(abs(lo), abs(hi)))[1]
        sv = [math.ldexp(v, -e) for v in vals]  # exact (up to underflow of entries 2^-1000 below the largest)
        mean = math.fsum(sv) / N
        d = [v - mean for v in sv]
        corr = math.fsum(d)
        ssq = math.fsum(x * x for x in d) - corr * corr / N
        if MUTANT == "unbiased-variance":
            var = ssq / (N - 1) if N > 1 else math.nan
        else:
            var = ssq / N
        if MUTANT == "eps-dropped":
            eps = 0.0
        if MUTANT == "eps-outside-sqrt":
            s = math.sqrt(var) + (math.ldexp(eps, -e) if eps and math.frexp(eps)[1] - e < 1000 else math.inf)
            self._e, self._s, self._big = e, s, False
            self.z = [x / s for x in d]
            return
        if eps == 0 and var == 0:
            raise AtnError("degenerate_window", "ATN-6.6", "%s: the window of step t=%d, sample b=%d (0-based) has var + eps = 0 (ATN-6.6)" % (arg, t, b), arg)
        if eps != 0 and math.frexp(eps)[1] - 2 * e > 1000:
            # eps / 2^(2e) would overflow: var is negligible beside it, s = sqrt(eps) (to 2^-1000 relative).
            se = math.sqrt(eps)
            self._e, self._s, self._big = e, se, True
            self.z = [math.ldexp(x / se, e) for x in d]
        else:
            s = math.sqrt(var + (math.ldexp(eps, -2 * e) if eps else 0.0))
            self._e, self._s, self._big = e, s, False
            self.z = [x / s for x in d]

    def div(self, x):
        """x / s_t for the true (unscaled) s_t, without intermediate overflow."""
        if self._big:
            return x / self._s
        return math.ldexp(x / self._s, -self._e)


def _k_eff(k):
    return 1 if MUTANT == "k-ignored" else k


def _with_history(a, B, H):
    """state-leak: prepend the previous request's last window; returns (sequence, number of prepended steps)."""
    if MUTANT != "state-leak":
        return a, 0
    hist = _LEAK.get((B, H), [])
    return hist + a, len(hist)


def _remember(seq, k, B, H):
    if MUTANT == "state-leak":
        _LEAK[(B, H)] = seq[max(0, len(seq) - k):]


def _window(seq, t, k, b):
    vals = []
    for s in range(max(0, t - k + 1), t + 1):
        vals.extend(seq[s][b])
    return vals


def _affine(z, g, bias):
    if MUTANT == "gain-bias-swapped":
        g, bias = bias, g
    return g * z + bias


def _squeeze(y, B, H):
    if MUTANT != "squeeze-singleton":
        return y
    if B == 1:
        return [[v for v in step[0]] for step in y]
    if H == 1:
        return [[row[0] for row in step] for step in y]
    return y


def _out(v, dtype):
    if isinstance(v, list):
        return [_out(x, dtype) for x in v]
    return f32(v) if dtype == "float32" else v


def atn_core(p, want_vjp):
    k, eps, gain, bias = _k_eff(p["k"]), p["eps"], p["gain"], p["bias"]
    B, H = p["B"], p["H"]
    seq, off = _with_history(p["a"], B, H)
    T = len(seq)
    y = [[None] * B for _ in range(T - off)]
    stats = {}
    for t in range(off, T):
        for b in range(B):
            st = Stats(_window(seq, t, k, b), eps, t - off, b, p.get("arg", "a"))
            zt = st.z[len(st.z) - H:]  # step t is the last of its window
            y[t - off][b] = [_affine(zt[i], gain[i], bias[i]) for i in range(H)]
            if want_vjp:
                stats[(t, b)] = st
    _remember(seq, k, B, H)
    if not want_vjp:
        return {"y": y}
    dy = p["dy"]
    parts = [[[[] for _ in range(H)] for _ in range(B)] for _ in range(T)]
    dgain = [[] for _ in range(H)]
    dbias = [[] for _ in range(H)]
    for t in range(off, T):
        for b in range(B):
            st = stats[(t, b)]
            N = st.N
            zt = st.z[N - H:]
            dyt = dy[t - off][b]
            gh = dyt if MUTANT == "vjp-gain-forgotten" else [gain[h] * dyt[h] for h in range(H)]
            m1 = math.fsum(gh) / N
            m2 = math.fsum(gh[h] * zt[h] for h in range(H)) / N
            s0 = max(0, t - k + 1)
            for j in range(N):
                s, h = s0 + j // H, j % H
                own = gh[h] if s == t else 0.0
                parts[s][b][h].append(st.div(own - m1 - st.z[j] * m2))
            for h in range(H):
                dgain[h].append(dyt[h] * zt[h])
                dbias[h].append(dyt[h])
    da = [[[math.fsum(parts[t][b][h]) for h in range(H)] for b in range(B)] for t in range(off, T)]
    return {"y": y, "da": da, "dgain": [math.fsum(x) for x in dgain], "dbias": [math.fsum(x) for x in dbias]}


def op_atn_forward(args):
    p = parse_atn(args, DTYPES)
    r = atn_core(p, False)
    return {"y": _out(_squeeze(r["y"], p["B"], p["H"]), p["dtype"])}


def op_atn_vjp(args):
    p = parse_atn_vjp(args, DTYPES)
    r = atn_core(p, True)
    d = p["dtype"]
    return {"y": _out(_squeeze(r["y"], p["B"], p["H"]), d), "da": _out(_squeeze(r["da"], p["B"], p["H"]), d),
            "dgain": _out(r["dgain"], d), "dbias": _out(r["dbias"], d)}


def op_ln_forward(args):
    p = parse_ln(args, DTYPES)
    q = {"arg": "x", "k": 1, "eps": p["eps"], "gain": p["gain"], "bias": p["bias"], "B": p["B"], "H": p["H"], "a": [p["x"]]}
    saved = globals()["MUTANT"]
    if saved == "state-leak":  # LN has no window to leak
        globals()["MUTANT"] = None
    try:
        y = atn_core(q, False)["y"]
    finally:
        globals()["MUTANT"] = saved
    return {"y": _out(_squeeze(y, p["B"], p["H"])[0], p["dtype"])}


# ---- ATN-LSTM (ATN-3) ----------------------------------------------------------------------------------------------

def _sigmoid(x):
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    ex = math.exp(x)
    return ex / (1.0 + ex)


def _affine_map(x, W, bvec):
    """x W + b for one row x, with exactly rounded sums."""
    cols = len(bvec)
    return [math.fsum([x[i] * W[i][j] for i in range(len(x))] + [bvec[j]]) for j in range(cols)]


def _atn_last(hist, k, eps, gain, bias, t, b, arg):
    """ATN of the last row of hist (rows of one sample) over its window of k rows."""
    Wd = len(gain)
    vals = []
    for row in hist[max(0, len(hist) - k):]:
        vals.extend(row)
    st = Stats(vals, eps, t, b, arg)
    z = st.z[len(st.z) - Wd:]
    return [gain[i] * z[i] + bias[i] for i in range(Wd)]


def op_lstm_forward(args):
    p = parse_lstm(args, DTYPES)
    k, eps, T, B, H = _k_eff(p["k"]), p["eps"], p["T"], p["B"], p["H"]
    P = p["params"]
    (gx, bx), (gh, bh), (gc, bc) = P["atn_x"], P["atn_h"], P["atn_c"]
    hs = [[None] * B for _ in range(T)]
    cs = [[None] * B for _ in range(T)]
    for b in range(B):
        h, c = p["h0"][b], p["c0"][b]
        ax_hist, ah_hist, c_hist = [], [], []
        for t in range(T):
            ax_hist.append(_affine_map(p["x"][t][b], P["w_xh"], P["b_x"]))
            ah_hist.append(_affine_map(h, P["w_hh"], P["b_h"]))
            nx = _atn_last(ax_hist, k, eps, gx, bx, t, b, "params.atn_x")
            nh = _atn_last(ah_hist, k, eps, gh, bh, t, b, "params.atn_h")
            gates = [nx[j] + nh[j] for j in range(4 * H)]
            f, i, o, g = (gates[q * H:(q + 1) * H] for q in range(4))
            if MUTANT == "lstm-gate-order-ifog":
                f, i = i, f
            c = [_sigmoid(f[j]) * c[j] + _sigmoid(i[j]) * math.tanh(g[j]) for j in range(H)]
            c_hist.append(c)
            cn = c if MUTANT == "lstm-no-cell-atn" else _atn_last(c_hist, k, eps, gc, bc, t, b, "params.atn_c")
            h = [_sigmoid(o[j]) * math.tanh(cn[j]) for j in range(H)]
            hs[t][b], cs[t][b] = h, c
    return {"h": _out(hs, p["dtype"]), "c": _out(cs, p["dtype"])}


HANDLERS = {
    "atn.forward": op_atn_forward,
    "atn.vjp": op_atn_vjp,
    "ln.forward": op_ln_forward,
    "lstm.forward": op_lstm_forward,
}


def main(argv):
    global MUTANT
    if "--help" in argv or "-h" in argv:
        sys.stdout.write("usage: atn_server.py [--mutant ID]\nmutants:\n" + "".join("  %-22s %s\n" % kv for kv in MUTANTS.items()))
        return 0
    if "--mutant" in argv:
        i = argv.index("--mutant")
        if i + 1 >= len(argv) or argv[i + 1] not in MUTANTS:
            sys.stderr.write("atn_server.py: --mutant needs one of: %s\n" % ", ".join(MUTANTS))
            return 2
        MUTANT = argv[i + 1]
    hello = {
        "name": "atn-kit-python",
        "version": VERSION,
        "protocol": 1,
        "ops": ["hello"] + list(HANDLERS),
        "dtypes": DTYPES,
        "description": "plain Python 3 ATN (float64 arithmetic, float32 by rounding inputs and outputs)"
        + (" with an injected mistake" if MUTANT else ""),
    }
    sys.setrecursionlimit(200)  # deeply nested JSON is refused as a parse error instead of exhausting the stack
    serve(hello, HANDLERS)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
