#!/usr/bin/python3
"""Serves a user's PyTorch ATN, LayerNorm or ATN-LSTM code over protocol v1 (ATN-8), so that atn-kit can run its
campaign against it, with flags only (no wrapper file):

    /usr/bin/python3 ports/torch/serve.py --module FILE.py|MODULE.NAME --convention CONV
        [--class NAME | --build EXPR | --function NAME] [--setup STMTS]
        [--atn-class NAME | --atn-build EXPR] [--atn-convention step|sequence]
        [--param PROTO=PATH[.T]]... [--gates ORDER] [--gain ATTR] [--bias ATTR] [--reset METHOD]
        [--eps VALUE] [--k-min N] [--k-max N] [--layout tbh|bth] [--features-arg NAME] [--k-arg NAME] [--eps-arg NAME]

Loading: --module is a file path (imported with sys.argv = [its path], its folder first on sys.path, so that a
research file that parses its command line at import sees no serve.py flags) or an importable module name
(torch.nn). What the user's code prints goes to stderr (stdout carries the protocol).

Conventions (--convention):
  sequence   module(a) with a: [T][B][H] returns y: [T][B][H] (--layout bth: module(a) on [B][T][H], y [B][T][H])
  step       module(a_t) with a_t: [B][H] returns y_t: [B][H], called for t = 1..T (a stateful module)
  layernorm  an LN over the last dimension: a module (torch.nn.LayerNorm(features, eps=eps)) or, with --function, a
             function with torch.nn.functional.layer_norm's signature fn(x, (H,), weight, bias, eps); it is LN, so it
             serves k = 1 only (hello k: {min: 1, max: 1}, ATN-8.8) and the theorems that hold at k = 1 are checked
  lstm       module(x, h0, c0) returns (h, c), [T][B][H] each (--layout bth: x, h, c are [B][T][.])
  cell       a step-wise cell forward(x_t, (h, c)) -> (h, c) on [B][I], [B][H]; the adapter loops over t
Construction: each module is built by --build EXPR, evaluated in the user module's namespace with features, I, H, k,
eps and torch bound (e.g. --build "Normalized_LSTMCell(I, H)"); --setup STMTS runs there first, before each build
and before each request that uses the module (e.g. --setup "args.max_time = k" for code that reads a global k).
Without --build: sequence/step NAME(features, k, eps) (by keyword when a --*-arg is given), lstm NAME(I, H, k, eps),
cell NAME(I, H), layernorm NAME(features, eps=eps). With --convention lstm|cell, --atn-class/--atn-build (and
--atn-convention, default step) add the ATN ops from the same code, so one report covers one port.
Parameters: gain and bias of an ATN are the attributes --gain/--bias (default: gain, else weight; bias). LSTM
parameters are set by protocol name (w_xh, w_hh, b_x, b_h, atn_x, atn_h, atn_c) unless --param maps them:
--param w_xh=weight_ih, --param atn_c=norm_c (a submodule: its --gain/--bias attributes), --param atn_c.gain=norm_c.g;
a .T suffix says the attribute stores the transpose (torch.nn.LSTMCell's weight_ih is [4H][I]). --gates ORDER is the
cell's order of the four gate blocks (letters f, i, o, g; the protocol's is fiog, ATN-3.3), e.g. --gates ifgo.
One module is built per (part, sizes, k, eps, dtype) and reused across requests, as a training loop reuses it:
parameters are set before each request; --reset METHOD is called before each sequence on the module and on every
submodule that has METHOD; without --reset nothing is reset, so a module that carries its window from one sequence to
the next shows it (ATN-1.7).
Capabilities (hello, ATN-8.8): --eps VALUE declares that the code's eps is fixed at VALUE (eps is then bound to VALUE
for --build, and requests with another eps are refused with bad_argument, arg eps); --k-min/--k-max bound k likewise.
What the module returns is never reshaped, squeezed or converted (--layout only swaps T and B back): a wrong shape is a
finding and goes back as is. Gradients come from autograd. Errors raised by the user's code come back as internal
errors (ATN-8.6) naming its file:line and the last frames of the traceback.
Arguments are validated like every atn-kit target (ports/python/atn_protocol.py), and constant windows with eps = 0
are refused (degenerate_window, ATN-6.6) before the module sees them.
"""

import argparse
import importlib
import importlib.util
import math
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ inside the repository
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import atn_protocol  # noqa: E402
from atn_protocol import (AtnError, check_windows, f32, parse_atn, parse_atn_vjp, parse_ln, parse_lstm,  # noqa: E402
                          parse_lstm_vjp, serve)

try:
    import torch
except ImportError as e:  # an explicit message instead of a traceback: spawnPort shows the last stderr lines
    sys.stderr.write("serve.py: cannot import torch (%s); PyTorch for /usr/bin/python3: apt-get install python3-torch\n" % e)
    sys.exit(2)

DTYPES = {"float32": torch.float32, "float64": torch.float64}
PROTOCOL_GATES = "fiog"  # ATN-3.3: [f, i, o, g]
# Frames of these files are the adapter's, not the user's: tracebacks leave them out.
OWN_FILES = {os.path.abspath(__file__), os.path.abspath(atn_protocol.__file__)}
TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__))


# ---- the user's code: loading, errors -------------------------------------------------------------------------------

def shown_path(filename):
    try:
        rel = os.path.relpath(filename)
        return rel if not rel.startswith("..") else filename
    except ValueError:
        return filename


def user_error(e, what):
    """An internal error (ATN-8.6) for an exception of the user's code: where it was raised in the user's files (the
    innermost frame outside torch and this adapter) and the last frames of the traceback, innermost first."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) not in OWN_FILES]
    mine = [f for f in frames if not os.path.abspath(f.filename).startswith(TORCH_DIR)]
    msg = "%s raised %s: %s" % (what, type(e).__name__, e)
    if mine:
        f = mine[-1]
        msg += " at %s:%d in %s" % (shown_path(f.filename), f.lineno, f.name)
    if frames:
        msg += "; traceback, innermost first: " + " <- ".join(
            "%s:%d %s" % (shown_path(f.filename), f.lineno, f.name) for f in reversed(frames[-4:]))
    return AtnError("internal", "ATN-8.6", msg)


def load_user_module(spec):
    """--module: a file (imported as its own name, argv = [its path], its folder on sys.path) or a module name."""
    is_file = spec.endswith(".py") or os.sep in spec or os.path.isfile(spec)
    if not is_file:
        try:
            return importlib.import_module(spec)
        except Exception as e:
            raise SystemExit("serve.py: cannot import module %s: %s" % (spec, user_error(e, "import").message))
    path = os.path.abspath(spec)
    if not os.path.isfile(path):
        raise SystemExit("serve.py: --module %s: no such file" % spec)
    name = os.path.splitext(os.path.basename(path))[0]
    if name in sys.modules or not name.isidentifier():
        name = "user_atn_module"
    sys.path.insert(0, os.path.dirname(path))
    ispec = importlib.util.spec_from_file_location(name, path)
    if ispec is None or ispec.loader is None:
        raise SystemExit("serve.py: cannot load %s" % path)
    mod = importlib.util.module_from_spec(ispec)
    sys.modules[name] = mod
    saved = sys.argv
    sys.argv = [path]  # a research file that calls parse_args() at import sees its own defaults, not our flags
    try:
        ispec.loader.exec_module(mod)
    except SystemExit as e:
        raise SystemExit("serve.py: importing %s called sys.exit(%s) (it was imported with sys.argv = [its path])" % (spec, e.code))
    except Exception as e:
        raise SystemExit("serve.py: importing %s failed: %s" % (spec, user_error(e, "import").message))
    finally:
        sys.argv = saved
    return mod


def resolve(obj, path):
    for part in path.split("."):
        if not hasattr(obj, part):
            return None
        obj = getattr(obj, part)
    return obj


def internal(clause, message):
    return AtnError("internal", clause, message)


def capability_error(arg, message):
    return AtnError("bad_argument", "ATN-8.8", "%s: %s (this target's hello declares it, ATN-8.8)" % (arg, message), arg)


# ---- one part: the code that serves the ATN ops, or the LSTM ops ----------------------------------------------------

class Part:
    """What builds one kind of module (--class/--build/--function, the convention) and how to call it."""

    def __init__(self, o, ns, convention, cls, build, function):
        self.o, self.ns, self.convention = o, ns, convention
        self.cls = self.build_code = self.function = None
        self.label = build or cls or function
        if function:
            self.function = self.lookup(function)
        elif build:
            self.build_code = compile(build, "--build", "eval")
        elif cls:
            self.cls = self.lookup(cls)
        else:
            raise SystemExit("serve.py: --convention %s needs --class, --build%s" % (convention, " or --function" if convention == "layernorm" else ""))
        self.cache = {}

    def lookup(self, name):
        obj = resolve(self.ns["__module__"], name)
        if obj is None:
            raise SystemExit("serve.py: %s has no attribute %s" % (self.o.module, name))
        return obj

    def bindings(self, sizes, k, eps):
        b = {"torch": torch, "k": k, "eps": eps}
        if self.convention in ("lstm", "cell"):
            b["I"], b["H"] = sizes
            b["features"] = sizes[1]
        else:
            b["features"] = b["H"] = sizes[0]
        return b

    def setup(self, b):
        if self.o.setup:
            try:
                exec(compile(self.o.setup, "--setup", "exec"), self.ns["globals"], b)
            except Exception as e:
                raise user_error(e, "--setup")

    def get(self, sizes, k, eps, dtype):
        """The module (or function) for these sizes, k, eps and dtype, after --setup."""
        b = self.bindings(sizes, k, eps)
        self.setup(b)
        if self.function is not None:
            return self.function
        key = (sizes, k, eps, dtype)
        m = self.cache.get(key)
        if m is None:
            try:
                m = self.construct(sizes, k, eps, b)
            except Exception as e:
                raise user_error(e, "building the module")
            if isinstance(m, torch.nn.Module):
                m = m.to(dtype)
            self.cache[key] = m
        return m

    def construct(self, sizes, k, eps, b):
        if self.build_code is not None:
            return eval(self.build_code, self.ns["globals"], b)
        o, c = self.o, self.convention
        if c == "lstm":
            return self.cls(sizes[0], sizes[1], k, eps)
        if c == "cell":
            return self.cls(sizes[0], sizes[1])
        if c == "layernorm":
            return self.cls(sizes[0], eps=eps)
        if o.features_arg or o.k_arg or o.eps_arg:
            names = (o.features_arg or "features", o.k_arg or "k", o.eps_arg or "eps")
            return self.cls(**dict(zip(names, (sizes[0], k, eps))))
        return self.cls(sizes[0], k, eps)

    def reset(self, m):
        """--reset METHOD on the module and on every submodule that has it, before each sequence."""
        meth = self.o.reset
        if not meth or not isinstance(m, torch.nn.Module):
            return
        found = False
        for sub in m.modules():
            f = getattr(sub, meth, None)
            if callable(f):
                f()
                found = True
        if not found:
            raise internal("ATN-1.7", "--reset %s: neither the module nor any submodule has a method %s" % (meth, meth))


# ---- the adapter -----------------------------------------------------------------------------------------------------

def gate_index(order, H):
    """Column j of the cell's 4H layout holds protocol column idx[j] (blocks of H in --gates order)."""
    return [PROTOCOL_GATES.index(g) * H + r for g in order for r in range(H)]


class Adapter:
    def __init__(self, o, ns):
        self.o = o
        self.atn_part = self.lstm_part = None
        if o.convention in ("lstm", "cell"):
            self.lstm_part = Part(o, ns, o.convention, o.cls, o.build, None)
            if o.atn_class or o.atn_build:
                self.atn_part = Part(o, ns, o.atn_convention, o.atn_class, o.atn_build, None)
        else:
            self.atn_part = Part(o, ns, o.convention, o.cls, o.build, o.function)
        self.k_min = o.k_min if o.k_min is not None else 1
        self.k_max = 1 if o.convention == "layernorm" else o.k_max
        self.params = dict(self.param_map())

    # ---- capabilities (ATN-8.8) -------------------------------------------------------------------------------------

    def capabilities(self):
        caps = {}
        if self.k_min > 1 or self.k_max is not None:
            caps["k"] = dict({"min": self.k_min}, **({"max": self.k_max} if self.k_max is not None else {}))
        if self.o.eps is not None:
            caps["eps"] = [self.o.eps]
        return caps

    def within(self, k, eps, dtype):
        """Refuses a valid request outside the declared capabilities; eps is compared after rounding to the dtype."""
        if k < self.k_min or (self.k_max is not None and k > self.k_max):
            raise capability_error("k", "this target serves k in [%d, %s] only, got %d" % (self.k_min, self.k_max if self.k_max is not None else "inf", k))
        same = (lambda x, y: f32(x) == f32(y)) if dtype == "float32" else (lambda x, y: x == y)
        if self.o.eps is not None and not same(eps, self.o.eps):
            raise capability_error("eps", "this target's eps is fixed at %r, got %r" % (self.o.eps, eps))

    # ---- ATN parameters ---------------------------------------------------------------------------------------------

    def gain_name(self, m):
        if self.o.gain:
            return self.o.gain
        return "gain" if resolve(m, "gain") is not None else "weight"

    def set_param(self, m, path, values, default, dtype, idx=None, transposed=False):
        """Sets the attribute at path to values (protocol layout; idx permutes gate columns; transposed storage).
        None when the attribute is absent and values are its default (a module without that parameter)."""
        p = resolve(m, path)
        if p is None:
            if all(v == default for v in flat(values)):
                return None
            raise internal("ATN-1.5", "the module has no attribute %s to set (serve.py --gain/--bias/--param name it)" % path)
        if not torch.is_tensor(p):
            raise internal("ATN-1.5", "the module's %s is a %s, not a tensor" % (path, type(p).__name__))
        v = torch.tensor(values, dtype=dtype)
        if idx is not None:
            v = v[..., idx]
        if transposed:
            v = v.t()
        if list(p.shape) != list(v.shape):
            raise internal("ATN-1.5", "the module's %s has shape %s, the protocol's value %s%s" % (path, list(p.shape), list(v.shape), " (after .T)" if transposed else ""))
        with torch.no_grad():
            p.copy_(v)
        p.grad = None
        return p

    # ---- running an ATN, step-wise or on the sequence ---------------------------------------------------------------

    def run_atn(self, m, a, gain, bias, H, eps):
        c = self.atn_part.convention
        if self.atn_part.function is not None:
            return self.atn_part.function(a, (H,), gain, bias, eps)
        if c == "step":
            return [m(a[t]) for t in range(a.shape[0])]
        if self.o.layout == "bth" and c == "sequence":
            return swap_tb(m(a.transpose(0, 1)))
        return m(a)

    @staticmethod
    def as_list(out, what):
        if isinstance(out, (list, tuple)):
            return [Adapter.as_list(x, what) for x in out]
        if torch.is_tensor(out):
            return out.detach().tolist()
        raise internal("ATN-8.5", "the module returned %s for %s, not a tensor" % (type(out).__name__, what))

    def atn(self, p, vjp, arg="a"):
        if self.atn_part is None:
            raise AtnError("unknown_op", "ATN-8.5", "op: this target serves the LSTM ops only (serve.py --atn-class/--atn-build add the ATN ops)", "op")
        self.within(p["k"], p["eps"], p["dtype"])
        dtype = DTYPES[p["dtype"]]
        check_windows(p["a"], p["k"], p["eps"], arg)
        try:
            return self.atn_run(p, vjp, dtype)
        except AtnError:
            raise
        except Exception as e:
            raise user_error(e, "the module")

    def atn_run(self, p, vjp, dtype):
        T, B, H = len(p["a"]), len(p["a"][0]), p["H"]  # (ln.forward passes a = [x] without T and B)
        m = self.atn_part.get((H,), p["k"], p["eps"], dtype)
        if self.atn_part.function is not None:
            g = torch.tensor(p["gain"], dtype=dtype, requires_grad=vjp)
            b = torch.tensor(p["bias"], dtype=dtype, requires_grad=vjp)
        else:
            gn = self.gain_name(m)
            g = self.set_param(m, gn, p["gain"], 1.0, dtype)
            b = self.set_param(m, self.o.bias or "bias", p["bias"], 0.0, dtype)
            self.atn_part.reset(m)
        a = torch.tensor(p["a"], dtype=dtype, requires_grad=vjp)
        if not vjp:
            with torch.no_grad():
                return {"y": self.as_list(self.run_atn(m, a, g, b, H, p["eps"]), "y")}
        out = self.run_atn(m, a, g, b, H, p["eps"])
        y = self.as_list(out, "y")
        dy = torch.tensor(p["dy"], dtype=dtype)
        if isinstance(out, (list, tuple)):
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

    def param_map(self):
        """Protocol leaf (w_xh, atn_x.gain, ...) -> (path, transposed, affine): from --param, else by protocol name.
        affine = "gain"/"bias" when path names an ATN submodule whose affine attribute is resolved per module."""
        leaves = ["w_xh", "w_hh", "b_x", "b_h"] + ["%s.%s" % (n, w) for n in ("atn_x", "atn_h", "atn_c") for w in ("gain", "bias")]
        given = {}
        for item in self.o.param or []:
            proto, sep, path = item.partition("=")
            proto, path = proto.strip(), path.strip()
            if not sep or not path:
                raise SystemExit("serve.py: --param %r: expected PROTO=PATH (e.g. w_xh=weight_ih or atn_c=norm_c)" % item)
            if proto not in leaves and proto not in ("atn_x", "atn_h", "atn_c"):
                raise SystemExit("serve.py: --param %s: unknown protocol parameter; known: %s, atn_x, atn_h, atn_c" % (proto, ", ".join(leaves)))
            transposed = path.endswith(".T")
            given[proto] = (path[:-2] if transposed else path, transposed)
        for leaf in leaves:
            sub, _, affine = leaf.partition(".")
            if leaf in given:
                yield leaf, given[leaf] + (None,)
            elif affine:
                yield leaf, (given.get(sub, (sub, False))[0], False, affine)
            else:
                yield leaf, (leaf, False, None)

    def leaf_path(self, m, leaf):
        path, transposed, affine = self.params[leaf]
        if affine == "gain":
            path += "." + (self.o.gain or ("gain" if resolve(m, path + ".gain") is not None else "weight"))
        elif affine == "bias":
            path += "." + (self.o.bias or "bias")
        return path, transposed

    def lstm(self, p, vjp):
        if self.lstm_part is None:
            raise AtnError("unknown_op", "ATN-8.5", "op: this target serves the ATN ops only", "op")
        self.within(p["k"], p["eps"], p["dtype"])
        try:
            return self.lstm_run(p, vjp)
        except AtnError:
            raise
        except Exception as e:
            raise user_error(e, "the module")

    def lstm_run(self, p, vjp):
        dtype = DTYPES[p["dtype"]]
        I, H = p["I"], p["H"]
        m = self.lstm_part.get((I, H), p["k"], p["eps"], dtype)
        P = p["params"]
        flat_params = {"w_xh": P["w_xh"], "w_hh": P["w_hh"], "b_x": P["b_x"], "b_h": P["b_h"]}
        for name in ("atn_x", "atn_h", "atn_c"):
            flat_params[name + ".gain"], flat_params[name + ".bias"] = P[name]
        idx = gate_index(self.o.gates, H) if self.o.gates != PROTOCOL_GATES else None
        params = {}
        for leaf, vals in flat_params.items():
            path, transposed = self.leaf_path(m, leaf)
            default = 1.0 if leaf.endswith(".gain") else 0.0
            gated = idx if not leaf.startswith("atn_c") else None
            params[leaf] = (self.set_param(m, path, vals, default, dtype, gated, transposed), gated, transposed, path)
        self.lstm_part.reset(m)
        x = torch.tensor(p["x"], dtype=dtype, requires_grad=vjp)
        h0 = torch.tensor(p["h0"], dtype=dtype, requires_grad=vjp)
        c0 = torch.tensor(p["c0"], dtype=dtype, requires_grad=vjp)
        if not vjp:
            with torch.no_grad():
                h, c = self.run_lstm(m, x, h0, c0)
            self.lstm_degenerate(p, h, c)
            return {"h": self.as_list(h, "h"), "c": self.as_list(c, "c")}
        h, c = self.run_lstm(m, x, h0, c0)
        self.lstm_degenerate(p, h, c)
        dh = torch.tensor(p["dh"], dtype=dtype)
        if not torch.is_tensor(h) or list(h.shape) != list(dh.shape):
            raise internal("ATN-8.5", "the module returned h of shape %s, expected %s: no VJP for a wrong shape" % (list(h.shape) if torch.is_tensor(h) else type(h).__name__, list(dh.shape)))
        (h * dh).sum().backward()

        def grad(t):
            return (t.grad if t.grad is not None else torch.zeros_like(t)).tolist()

        def param_grad(leaf):
            t, gated, transposed, path = params[leaf]
            if t is None:
                raise internal("ATN-4.3", "the module has no parameter %s (protocol %s): no gradient for it" % (path, leaf))
            g = t.grad if t.grad is not None else torch.zeros_like(t)
            if transposed:
                g = g.t()
            if gated is not None:
                back = torch.empty_like(g)
                back[..., gated] = g
                g = back
            return g.tolist()

        grads = {"x": grad(x), "h0": grad(h0), "c0": grad(c0)}
        for name in ("w_xh", "w_hh", "b_x", "b_h"):
            grads[name] = param_grad(name)
        for name in ("atn_x", "atn_h", "atn_c"):
            grads[name] = {"gain": param_grad(name + ".gain"), "bias": param_grad(name + ".bias")}
        return {"h": self.as_list(h, "h"), "c": self.as_list(c, "c"), "grads": grads}

    def run_lstm(self, m, x, h0, c0):
        if self.lstm_part.convention == "cell":
            hs, cs, state = [], [], (h0, c0)
            for t in range(x.shape[0]):
                state = m(x[t], state)
                if not isinstance(state, (tuple, list)) or len(state) != 2:
                    raise internal("ATN-8.5", "the cell returned %s, not (h, c)" % type(state).__name__)
                hs.append(state[0])
                cs.append(state[1])
            return stack(hs, "h"), stack(cs, "c")
        if self.o.layout == "bth":
            h, c = m(x.transpose(0, 1), h0, c0)
            return swap_tb(h), swap_tb(c)
        return m(x, h0, c0)

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


def flat(v):
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from flat(x)
    else:
        yield v


def swap_tb(out):
    """[B][T][.] back to [T][B][.] (--layout bth); anything that is not a 3-D tensor goes back as is."""
    return out.transpose(0, 1) if torch.is_tensor(out) and out.dim() == 3 else out


def stack(steps, what):
    if all(torch.is_tensor(s) for s in steps) and len({tuple(s.shape) for s in steps}) == 1:
        return torch.stack(steps)
    return [s for s in steps]  # mixed shapes go back as they are: a shape finding


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Serve PyTorch ATN / LayerNorm / ATN-LSTM code over atn-kit protocol v1 (stdin/stdout).")
    ap.add_argument("--module", required=True, help="a Python file, or an importable module name (torch.nn)")
    ap.add_argument("--class", dest="cls", help="the class to build (see --build)")
    ap.add_argument("--build", help="expression building the module, evaluated in the module's namespace with features, I, H, k, eps, torch bound")
    ap.add_argument("--function", help="layernorm convention: a function with torch.nn.functional.layer_norm's signature")
    ap.add_argument("--setup", help="statements run in the module's namespace before each build and each request")
    ap.add_argument("--convention", required=True, choices=["step", "sequence", "layernorm", "lstm", "cell"])
    ap.add_argument("--atn-class", help="with --convention lstm|cell: the ATN class that serves the ATN ops")
    ap.add_argument("--atn-build", help="with --convention lstm|cell: expression building the ATN for the ATN ops")
    ap.add_argument("--atn-convention", default="step", choices=["step", "sequence"], help="convention of --atn-class/--atn-build (default step)")
    ap.add_argument("--features-arg")
    ap.add_argument("--k-arg")
    ap.add_argument("--eps-arg")
    ap.add_argument("--reset", help="method called before each sequence on the module and every submodule that has it")
    ap.add_argument("--gain", help="attribute name/path of an ATN's gain (default gain, else weight)")
    ap.add_argument("--bias", help="attribute name/path of an ATN's bias (default bias)")
    ap.add_argument("--param", action="append", metavar="PROTO=PATH", help="protocol LSTM parameter -> attribute path (.T: stored transposed); repeatable")
    ap.add_argument("--gates", default=PROTOCOL_GATES, help="the cell's gate block order, letters f i o g (default fiog, ATN-3.3)")
    ap.add_argument("--eps", type=float, help="the code's eps is fixed at this value (declared in hello, ATN-8.8)")
    ap.add_argument("--k-min", type=int, help="smallest k the code serves (hello, ATN-8.8)")
    ap.add_argument("--k-max", type=int, help="largest k the code serves (hello, ATN-8.8; layernorm: 1)")
    ap.add_argument("--layout", default="tbh", choices=["tbh", "bth"], help="sequence/lstm conventions: the module's [T][B][.] or [B][T][.] layout")
    o = ap.parse_args(argv)
    if sorted(o.gates) != sorted(PROTOCOL_GATES):
        ap.error("--gates must be a permutation of the letters f, i, o, g, got %r" % o.gates)
    if o.function and o.convention != "layernorm":
        ap.error("--function goes with --convention layernorm")
    if (o.atn_class or o.atn_build) and o.convention not in ("lstm", "cell"):
        ap.error("--atn-class/--atn-build go with --convention lstm|cell (otherwise --class/--build serve the ATN ops)")
    if o.k_min is not None and o.k_min < 1 or o.k_max is not None and o.k_max < max(1, o.k_min or 1):
        ap.error("--k-min must be >= 1 and --k-max >= --k-min")
    if o.eps is not None and not (o.eps >= 0 and math.isfinite(o.eps)):
        ap.error("--eps must be a finite number >= 0")
    return o


def main(argv):
    o = parse_args(argv)
    torch.set_num_threads(1)  # requests are tiny; threads only fight the other test workers
    protocol_out = sys.stdout
    sys.stdout = sys.stderr  # what the user's code prints must not corrupt the protocol stream
    mod = load_user_module(o.module)
    ns = {"__module__": mod, "globals": vars(mod)}
    ad = Adapter(o, ns)
    handlers = {}
    if ad.atn_part is not None:
        handlers.update({"atn.forward": ad.atn_forward, "atn.vjp": ad.atn_vjp, "ln.forward": ad.ln_forward})
    if ad.lstm_part is not None:
        handlers.update({"lstm.forward": ad.lstm_forward, "lstm.vjp": ad.lstm_vjp})
    label = (ad.lstm_part or ad.atn_part).label
    hello = {
        "name": "torch:%s" % label,
        "version": "torch %s" % torch.__version__,
        "protocol": 1,
        "ops": ["hello"] + list(handlers),
        "dtypes": list(DTYPES),
        "backend": "torch-cpu",
        "description": "PyTorch %s from %s, %s convention%s, served by ports/torch/serve.py" % (
            label, o.module, o.convention, " (ATN ops: %s, %s)" % (ad.atn_part.label, ad.atn_part.convention) if ad.lstm_part and ad.atn_part else ""),
    }
    hello.update(ad.capabilities())
    serve(hello, handlers, stdout=protocol_out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
