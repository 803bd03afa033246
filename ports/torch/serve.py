#!/usr/bin/python3
"""Serves a user's PyTorch ATN module over protocol v1 (ATN-8), so that atn-kit can run its campaign against it:

    /usr/bin/python3 ports/torch/serve.py --module FILE.py --class NAME --convention step|sequence|lstm
        [--features-arg NAME] [--k-arg NAME] [--eps-arg NAME] [--reset METHOD] [--gain ATTR] [--bias ATTR]

Conventions:
  sequence  module(a) with a: [T][B][H] returns y: [T][B][H]
  step      module(a_t) with a_t: [B][H] returns y_t: [B][H], called for t = 1..T (a stateful module)
  lstm      module(x, h0, c0) returns (h, c), [T][B][H] each; parameters are set by the protocol names as attributes
            (w_xh, w_hh, b_x, b_h, atn_x.gain, atn_x.bias, atn_h.*, atn_c.*); constructed as NAME(I, H, k, eps)
Construction: NAME(features, k, eps) positionally, or by keyword when any --*-arg is given (the others then default to
the keywords features, k, eps). One module is built per (features, k, eps, dtype) and reused across requests, as a
training loop reuses it: gain and bias (--gain/--bias attribute paths, default gain and bias) are set before each
request; --reset METHOD is called before each sequence (each request); without --reset nothing is reset, so a module
that carries its window from one sequence to the next shows it (ATN-1.7).
What the module returns is never reshaped, squeezed or converted: a wrong shape is a finding and goes back as is.
atn.vjp and lstm.vjp use autograd. ln.forward runs the module with k = 1 on the one step [x] (ATN-2.1).
Arguments are validated like every atn-kit target (ports/python/atn_protocol.py), and constant windows with eps = 0
are refused (degenerate_window, ATN-6.6) before the module sees them.
"""

import argparse
import importlib.util
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ inside the repository
sys.path.insert(0, os.path.join(HERE, "..", "python"))
from atn_protocol import (AtnError, check_windows, parse_atn, parse_atn_vjp, parse_ln, parse_lstm,  # noqa: E402
                          parse_lstm_vjp, serve)

try:
    import torch
except ImportError as e:  # an explicit message instead of a traceback: spawnPort shows the last stderr lines
    sys.stderr.write("serve.py: cannot import torch (%s); PyTorch for /usr/bin/python3: apt-get install python3-torch\n" % e)
    sys.exit(2)

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def load_class(path, name):
    spec = importlib.util.spec_from_file_location("user_atn_module", os.path.abspath(path))
    if spec is None or spec.loader is None:
        raise SystemExit("serve.py: cannot load %s" % path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["user_atn_module"] = mod
    spec.loader.exec_module(mod)
    if not hasattr(mod, name):
        raise SystemExit("serve.py: %s has no class %s" % (path, name))
    return getattr(mod, name)


def resolve(obj, path):
    for part in path.split("."):
        if not hasattr(obj, part):
            return None
        obj = getattr(obj, part)
    return obj


def internal(clause, message):
    return AtnError("internal", clause, message)


class Adapter:
    def __init__(self, opts):
        self.o = opts
        self.cls = load_class(opts.module, opts.cls)
        self.cache = {}

    # ---- building and preparing the module --------------------------------------------------------------------------

    def module(self, key, ctor_args):
        m = self.cache.get(key)
        if m is None:
            o = self.o
            if o.convention != "lstm" and (o.features_arg or o.k_arg or o.eps_arg):
                names = (o.features_arg or "features", o.k_arg or "k", o.eps_arg or "eps")
                m = self.cls(**dict(zip(names, ctor_args)))
            else:
                m = self.cls(*ctor_args)
            m = m.to(key[-1])
            self.cache[key] = m
        return m

    def set_param(self, m, path, values, default, dtype):
        p = resolve(m, path)
        if p is None:
            if all(v == default for v in values):
                return None
            raise internal("ATN-1.5", "the module has no attribute %s to set (serve.py --gain/--bias name it)" % path)
        with torch.no_grad():
            p.copy_(torch.tensor(values, dtype=dtype))
        if isinstance(p, torch.nn.Parameter):
            p.grad = None
        return p

    def prepare(self, m, gain, bias, dtype):
        g = self.set_param(m, self.o.gain, gain, 1.0, dtype)
        b = self.set_param(m, self.o.bias, bias, 0.0, dtype)
        if self.o.reset:
            getattr(m, self.o.reset)()
        return g, b

    # ---- running it ---------------------------------------------------------------------------------------------------

    def run_atn(self, m, a):
        if self.o.convention == "step":
            return [m(a[t]) for t in range(a.shape[0])]
        return m(a)

    @staticmethod
    def as_list(out, what):
        if isinstance(out, list):
            return [Adapter.as_list(x, what) for x in out]
        if torch.is_tensor(out):
            return out.detach().tolist()
        raise internal("ATN-8.5", "the module returned %s for %s, not a tensor" % (type(out).__name__, what))

    def atn(self, p, vjp, arg="a"):
        dtype = DTYPES[p["dtype"]]
        check_windows(p["a"], p["k"], p["eps"], arg)
        m = self.module((p["H"], p["k"], p["eps"], dtype), (p["H"], p["k"], p["eps"]))
        g, b = self.prepare(m, p["gain"], p["bias"], dtype)
        a = torch.tensor(p["a"], dtype=dtype, requires_grad=vjp)
        if not vjp:
            with torch.no_grad():
                return {"y": self.as_list(self.run_atn(m, a), "y")}
        out = self.run_atn(m, a)
        y = self.as_list(out, "y")
        dy = torch.tensor(p["dy"], dtype=dtype)
        T, B, H = p["T"], p["B"], p["H"]
        if isinstance(out, list):
            bad = [list(o.shape) for o in out if list(o.shape) != [B, H]]
            if bad:
                raise internal("ATN-8.5", "the module returned a step output of shape %s, expected %s: no VJP for a wrong shape" % (bad[0], [B, H]))
            loss = sum((o * dy[t]).sum() for t, o in enumerate(out))
        else:
            if list(out.shape) != [T, B, H]:
                raise internal("ATN-8.5", "the module returned y of shape %s, expected %s: no VJP for a wrong shape" % (list(out.shape), [T, B, H]))
            loss = (out * dy).sum()
        loss.backward()
        res = {"y": y, "da": a.grad.tolist()}
        for name, param in (("dgain", g), ("dbias", b)):
            if param is None or param.grad is None:
                raise internal("ATN-4.2", "%s: the module has no trainable %s parameter" % (name, name[1:]))
            res[name] = param.grad.tolist()  # as is: a wrong shape is a finding
        return res

    def atn_forward(self, args):
        return self.atn(parse_atn(args, list(DTYPES)), False)

    def atn_vjp(self, args):
        return self.atn(parse_atn_vjp(args, list(DTYPES)), True)

    def ln_forward(self, args):
        p = parse_ln(args, list(DTYPES))
        q = dict(p, k=1, a=[p["x"]])
        y = self.atn(q, False, arg="x")["y"]
        return {"y": y[0] if isinstance(y, list) and len(y) == 1 else y}  # [T=1][B][H] -> [B][H]; else as is

    # ---- ATN-LSTM -----------------------------------------------------------------------------------------------------

    def lstm(self, p, vjp):
        dtype = DTYPES[p["dtype"]]
        I, H = p["I"], p["H"]
        m = self.module((I, H, p["k"], p["eps"], dtype), (I, H, p["k"], p["eps"]))
        P = p["params"]
        flat = {"w_xh": P["w_xh"], "w_hh": P["w_hh"], "b_x": P["b_x"], "b_h": P["b_h"]}
        for name in ("atn_x", "atn_h", "atn_c"):
            flat[name + ".gain"], flat[name + ".bias"] = P[name]
        params = {}
        for path, vals in flat.items():
            t = resolve(m, path)
            if t is None:
                raise internal("ATN-3.2", "the module has no attribute %s (lstm convention: parameters by protocol names)" % path)
            with torch.no_grad():
                t.copy_(torch.tensor(vals, dtype=dtype))
            t.grad = None
            params[path] = t
        if self.o.reset:
            getattr(m, self.o.reset)()
        x = torch.tensor(p["x"], dtype=dtype, requires_grad=vjp)
        h0 = torch.tensor(p["h0"], dtype=dtype, requires_grad=vjp)
        c0 = torch.tensor(p["c0"], dtype=dtype, requires_grad=vjp)
        if not vjp:
            with torch.no_grad():
                h, c = m(x, h0, c0)
            self.lstm_degenerate(p, h, c)
            return {"h": self.as_list(h, "h"), "c": self.as_list(c, "c")}
        h, c = m(x, h0, c0)
        self.lstm_degenerate(p, h, c)
        dh = torch.tensor(p["dh"], dtype=dtype)
        if list(h.shape) != list(dh.shape):
            raise internal("ATN-8.5", "the module returned h of shape %s, expected %s: no VJP for a wrong shape" % (list(h.shape), list(dh.shape)))
        (h * dh).sum().backward()

        def grad(t):
            return (t.grad if t.grad is not None else torch.zeros_like(t)).tolist()

        grads = {"x": grad(x), "h0": grad(h0), "c0": grad(c0)}
        for name in ("w_xh", "w_hh", "b_x", "b_h"):
            grads[name] = grad(params[name])
        for name in ("atn_x", "atn_h", "atn_c"):
            grads[name] = {"gain": grad(params[name + ".gain"]), "bias": grad(params[name + ".bias"])}
        return {"h": self.as_list(h, "h"), "c": self.as_list(c, "c"), "grads": grads}

    @staticmethod
    def lstm_degenerate(p, h, c):
        """degenerate_window (ATN-6.6) when eps = 0 and a window of a^x, a^h or c is constant, as the reference
        answers: a^x from the inputs, a^h and c from the module's own h and c (a module answers NaN or anything)."""
        if p["eps"] != 0 or not torch.is_tensor(h) or not torch.is_tensor(c):
            return
        T, B, I, H, k = p["T"], p["B"], p["I"], p["H"], p["k"]
        if list(h.shape) != [T, B, H] or list(c.shape) != [T, B, H]:
            return  # a wrong shape is reported as such
        P = p["params"]
        hl, cl = h.detach().tolist(), c.detach().tolist()

        def affine(row, W, bias):
            return [math.fsum([row[i] * W[i][j] for i in range(len(row))] + [bias[j]]) for j in range(len(bias))]

        seqs = {name: [[None] * T for _ in range(B)] for name in ("params.atn_x", "params.atn_h", "params.atn_c")}
        for b in range(B):
            for t in range(T):
                seqs["params.atn_x"][b][t] = affine(p["x"][t][b], P["w_xh"], P["b_x"])
                seqs["params.atn_h"][b][t] = affine(p["h0"][b] if t == 0 else hl[t - 1][b], P["w_hh"], P["b_h"])
                seqs["params.atn_c"][b][t] = cl[t][b]
        for t in range(T):
            for name, seq in seqs.items():
                for b in range(B):
                    vals = [v for s in range(max(0, t - k + 1), t + 1) for v in seq[b][s]]
                    if min(vals) == max(vals):
                        raise AtnError("degenerate_window", "ATN-6.6",
                                       "%s: the window of step t=%d, sample b=%d (0-based) is constant and eps = 0, so var + eps = 0 (ATN-6.6)"
                                       % (name, t, b), name)

    def lstm_forward(self, args):
        return self.lstm(parse_lstm(args, list(DTYPES)), False)

    def lstm_vjp(self, args):
        return self.lstm(parse_lstm_vjp(args, list(DTYPES)), True)


def main(argv):
    ap = argparse.ArgumentParser(description="Serve a PyTorch ATN module over atn-kit protocol v1 (stdin/stdout).")
    ap.add_argument("--module", required=True, help="the Python file defining the module class")
    ap.add_argument("--class", dest="cls", required=True, help="the nn.Module class")
    ap.add_argument("--convention", required=True, choices=["step", "sequence", "lstm"])
    ap.add_argument("--features-arg")
    ap.add_argument("--k-arg")
    ap.add_argument("--eps-arg")
    ap.add_argument("--reset", help="method called before each sequence")
    ap.add_argument("--gain", default="gain", help="attribute path of the gain parameter (default gain)")
    ap.add_argument("--bias", default="bias", help="attribute path of the bias parameter (default bias)")
    o = ap.parse_args(argv)
    torch.set_num_threads(1)  # requests are tiny; threads only fight the other test workers
    ad = Adapter(o)
    if o.convention == "lstm":
        handlers = {"lstm.forward": ad.lstm_forward, "lstm.vjp": ad.lstm_vjp}
    else:
        handlers = {"atn.forward": ad.atn_forward, "atn.vjp": ad.atn_vjp, "ln.forward": ad.ln_forward}
    hello = {
        "name": "torch:%s" % o.cls,
        "version": "torch %s" % torch.__version__,
        "protocol": 1,
        "ops": ["hello"] + list(handlers),
        "dtypes": list(DTYPES),
        "backend": "torch-cpu",
        "description": "PyTorch module %s from %s, %s convention, served by ports/torch/serve.py" % (o.cls, o.module, o.convention),
    }
    serve(hello, handlers)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
