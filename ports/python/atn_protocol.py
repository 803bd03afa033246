"""Protocol v1 (ATN-8) for Python ports, standard library only: the JSON-lines loop, the wire encoding of numbers, and
argument validation with the same error codes, clauses and argument paths as protocol/args.ts (so that every target of
ours refuses the same bad input the same way). Shared by atn_server.py and ports/torch/serve.py."""

import json
import math
import struct
import sys

MAX_ELEMENTS = 1 << 20  # spec/limits.ts
MAX_K = 1 << 20
MAX_LINE_BYTES = 64 << 20
MAX_WORK = 1 << 18  # spec/limits.ts maxWork (ATN-6.11)

_MISSING = object()


class AtnError(Exception):
    def __init__(self, code, clause, message, arg=None):
        super().__init__(message)
        self.code, self.clause, self.message, self.arg = code, clause, message, arg

    def body(self):
        b = {"code": self.code, "clause": self.clause, "message": self.message}
        if self.arg is not None:
            b["arg"] = self.arg
        return b


def bad_argument(arg, clause, what):
    return AtnError("bad_argument", clause, "%s: %s (%s)" % (arg, what, clause), arg)


# ---- numbers -------------------------------------------------------------------------------------------------------

def f32(x):
    """Rounds a double to the nearest float32 (round-half-even; overflow to infinity, as a float32 target would)."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def encode(v):
    """Non-finite numbers as the strings "NaN", "Infinity", "-Infinity" (ATN-8.3)."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        return v
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    return v


def _parse_int(s):
    # Python refuses int literals over 4300 digits; JSON.parse gives a (possibly infinite) double: so do we.
    return int(s) if len(s) < 300 else float(s)


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def loads(line):
    try:
        return json.loads(line, parse_constant=_no_constant)  # fast: no Python call per number
    except ValueError as e:
        if "int" not in str(e):  # e.g. "Exceeds the limit (4300 digits) for integer string conversion"
            raise
    return json.loads(line, parse_int=_parse_int, parse_constant=_no_constant)


# ---- validation (mirrors protocol/args.ts) -----------------------------------------------------------------------------

def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _describe(v):
    if v is None:
        return "null"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, dict):
        return "a object"
    return "a number"


class _Budget:
    def __init__(self, mx):
        self.n, self.max = 0, mx

    def take(self, count, arg):
        self.n += count
        if self.n > self.max:
            a = _p(arg)
            raise AtnError("too_large", "ATN-6.9", "%s: request holds more than %d numbers (ATN-6.9)" % (a, self.max), a)


def _p(arg):
    """An argument path: a string, or (parent path, index) formatted only when an error names it (keeps the walk
    over a million entries cheap)."""
    if isinstance(arg, tuple):
        return "%s[%d]" % (_p(arg[0]), arg[1])
    return arg


def _f32_leaf(x, arg):
    # ATN-6.10: a finite double that rounds to +-Infinity in float32 is not a finite float32 entry.
    y = f32(x)
    if math.isinf(y):
        raise bad_argument(_p(arg), "ATN-6.4", "entry %r overflows float32 (it rounds to %sInfinity; ATN-6.10)" % (x, "" if x > 0 else "-"))
    return y


def _leaf(v, dtype, arg):
    if type(v) is float and v - v == 0:  # the common case first: a finite float
        return _f32_leaf(v, arg) if dtype == "float32" else v
    if _is_num(v):
        try:
            x = float(v)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise bad_argument(_p(arg), "ATN-6.4", "entry is not finite: %s" % v)
        return _f32_leaf(x, arg) if dtype == "float32" else x
    if isinstance(v, str):
        if v in ("NaN", "Infinity", "-Infinity"):
            raise bad_argument(_p(arg), "ATN-6.4", 'entry is not finite: "%s"' % v)
        raise bad_argument(_p(arg), "ATN-8.3", "entry %s is a string; with dtype %s entries are JSON numbers" % (json.dumps(v[:40]), dtype))
    raise bad_argument(_p(arg), "ATN-8.3", "entry is %s, not a number" % _describe(v))


def _vec(v, dtype, arg, length, budget, len_clause="ATN-6.3"):
    if not isinstance(v, list):
        raise bad_argument(_p(arg), "ATN-6.3", "expected an array, got %s" % _describe(v))
    if len(v) == 0:
        raise bad_argument(_p(arg), "ATN-6.3", "empty array")
    if length is not None and len(v) != length:
        raise bad_argument(_p(arg), len_clause, "length %d, expected %d" % (len(v), length))
    budget.take(len(v), arg)
    return [_leaf(x, dtype, (arg, i)) for i, x in enumerate(v)]


def _mat(v, dtype, arg, rows, cols, budget, clause="ATN-6.3"):
    if not isinstance(v, list):
        raise bad_argument(_p(arg), "ATN-6.3", "expected an array of arrays, got %s" % _describe(v))
    if len(v) == 0:
        raise bad_argument(_p(arg), "ATN-6.3", "empty array")
    if rows is not None and len(v) != rows:
        raise bad_argument(_p(arg), clause, "has %d rows, expected %d" % (len(v), rows))
    width = cols if cols is not None else (len(v[0]) if isinstance(v[0], list) else None)
    out = []
    for i, row in enumerate(v):
        if isinstance(row, list) and width is not None and len(row) != width and len(row) > 0:
            a = _p(arg)
            why = ("expected %d" % cols) if cols is not None else "%s[0] has %d (ragged array)" % (a, width)
            raise bad_argument(a, clause if cols is not None else "ATN-6.3", "%s[%d] has length %d, %s" % (a, i, len(row), why))
        out.append(_vec(row, dtype, (arg, i), width, budget))
    return out


def _ten3(v, dtype, arg, dims, budget, clause="ATN-6.3"):
    if not isinstance(v, list):
        raise bad_argument(arg, "ATN-6.3", "expected a [T][B][...] array, got %s" % _describe(v))
    if len(v) == 0:
        raise bad_argument(arg, "ATN-6.3", "empty array")
    if dims[0] is not None and len(v) != dims[0]:
        raise bad_argument(arg, clause, "has %d time steps, expected %d" % (len(v), dims[0]))
    first = v[0] if isinstance(v[0], list) else None
    rows = dims[1] if dims[1] is not None else (len(first) if first is not None else None)
    if dims[2] is not None:
        cols = dims[2]
    else:
        cols = len(first[0]) if first and isinstance(first[0], list) else None
    out = []
    for t, m in enumerate(v):
        if isinstance(m, list) and rows is not None and len(m) != rows and len(m) > 0:
            raise bad_argument(arg, clause if dims[1] is not None else "ATN-6.3",
                               "%s[%d] has %d rows, expected %d%s" % (arg, t, len(m), rows, "" if dims[1] is not None else " (ragged array)"))
        out.append(_mat(m, dtype, (arg, t), rows, cols, budget, clause))
    return out


def _dtype(args, dtypes):
    d = args.get("dtype", _MISSING)
    if not isinstance(d, str) or d not in dtypes:
        shown = "missing" if d is _MISSING else json.dumps(d)
        raise AtnError("unsupported_dtype", "ATN-6.7", "dtype: %s; this target accepts %s (ATN-6.7)" % (shown, ", ".join(dtypes)), "dtype")
    return d


def _shown(v):
    return "undefined" if v is _MISSING else json.dumps(encode(v))[:100]


def parse_k(v):
    if not _is_num(v) or not (isinstance(v, int) or v.is_integer()) or v < 1:
        raise bad_argument("k", "ATN-6.1", "must be a positive integer, got %s" % _shown(v))
    if v > MAX_K:
        raise AtnError("too_large", "ATN-6.9", "k: %d exceeds the limit %d (ATN-6.9)" % (v, MAX_K), "k")
    return int(v)


def parse_eps(v, dtype):
    if v is _MISSING:
        raise bad_argument("eps", "ATN-6.2", "missing")
    try:
        e = _leaf(v, dtype, "eps")
    except AtnError:
        raise bad_argument("eps", "ATN-6.2", "must be a finite non-negative number, got %s" % _shown(v))
    if v < 0:  # the sign of the number as sent: a tiny negative eps must not pass by rounding to -0 in float32
        raise bad_argument("eps", "ATN-6.2", "must be non-negative, got %r" % e)
    return e


def _affine(v, dtype, arg, n, budget, clause):
    if v is _MISSING:
        return [1.0] * n, [0.0] * n
    if not isinstance(v, dict):
        raise bad_argument(arg, "ATN-6.3", "expected {gain, bias}, got %s" % _describe(v))

    def path(name):
        return "%s.%s" % (arg, name) if arg else name

    g = v.get("gain", _MISSING)
    b = v.get("bias", _MISSING)
    gain = [1.0] * n if g is _MISSING else _vec(g, dtype, path("gain"), n, budget, clause)
    bias = [0.0] * n if b is _MISSING else _vec(b, dtype, path("bias"), n, budget, clause)
    return gain, bias


def work_of(op, T, B, H, I=0, k=1):
    """ATN-6.11, as spec/limits.ts workOf: units of about one exact operation of the reference."""
    kk = min(k, T)
    if op == "lstm":
        return T * B * (4 * H * (I + H) + 9 * H * (kk + 16))
    return T * B * H * (kk + 16)


def check_work(units, formula, arg):
    if units > MAX_WORK:
        raise AtnError("too_large", "ATN-6.11", "%s: the request's work %s = %d exceeds the limit %d (ATN-6.11)"
                       % (arg, formula, units, MAX_WORK), arg)


def parse_atn(args, dtypes):
    dtype = _dtype(args, dtypes)
    k = parse_k(args.get("k", _MISSING))
    eps = parse_eps(args.get("eps", _MISSING), dtype)
    budget = _Budget(MAX_ELEMENTS)
    if "a" not in args:
        raise bad_argument("a", "ATN-6.3", "missing")
    a = _ten3(args["a"], dtype, "a", (None, None, None), budget)
    H = len(a[0][0])
    gain, bias = _affine({k2: args[k2] for k2 in ("gain", "bias") if k2 in args}, dtype, "", H, budget, "ATN-6.5")
    T, B = len(a), len(a[0])
    check_work(work_of("atn", T, B, H, k=k), "T\u00b7B\u00b7H\u00b7(min(k,T)+16) with T=%d, B=%d, H=%d, k=%d" % (T, B, H, k), "a")
    return {"dtype": dtype, "k": k, "eps": eps, "a": a, "gain": gain, "bias": bias, "T": len(a), "B": len(a[0]), "H": H}


def parse_atn_vjp(args, dtypes):
    p = parse_atn(args, dtypes)
    budget = _Budget(MAX_ELEMENTS - p["T"] * p["B"] * p["H"] - 2 * p["H"])
    if "dy" not in args:
        raise bad_argument("dy", "ATN-6.3", "missing")
    p["dy"] = _ten3(args["dy"], p["dtype"], "dy", (p["T"], p["B"], p["H"]), budget)
    return p


def parse_ln(args, dtypes):
    dtype = _dtype(args, dtypes)
    eps = parse_eps(args.get("eps", _MISSING), dtype)
    budget = _Budget(MAX_ELEMENTS)
    if "x" not in args:
        raise bad_argument("x", "ATN-6.3", "missing")
    x = _mat(args["x"], dtype, "x", None, None, budget)
    H = len(x[0])
    gain, bias = _affine({k2: args[k2] for k2 in ("gain", "bias") if k2 in args}, dtype, "", H, budget, "ATN-6.5")
    check_work(work_of("ln", 1, len(x), H), "B\u00b7H\u00b717 with B=%d, H=%d" % (len(x), H), "x")
    return {"dtype": dtype, "eps": eps, "x": x, "gain": gain, "bias": bias, "B": len(x), "H": H}


def parse_lstm(args, dtypes):
    dtype = _dtype(args, dtypes)
    k = parse_k(args.get("k", _MISSING))
    eps = parse_eps(args.get("eps", _MISSING), dtype)
    budget = _Budget(MAX_ELEMENTS)
    for name in ("x", "h0", "c0", "params"):
        if name not in args:
            raise bad_argument(name, "ATN-6.3", "missing")
    x = _ten3(args["x"], dtype, "x", (None, None, None), budget)
    T, B, I = len(x), len(x[0]), len(x[0][0])
    h0 = _mat(args["h0"], dtype, "h0", B, None, budget, "ATN-6.8")
    H = len(h0[0])
    check_work(work_of("lstm", T, B, H, I, k), "T\u00b7B\u00b7(4H\u00b7(I+H)+9H\u00b7(min(k,T)+16)) with T=%d, B=%d, I=%d, H=%d, k=%d"
               % (T, B, I, H, k), "x")
    c0 = _mat(args["c0"], dtype, "c0", B, H, budget, "ATN-6.8")
    o = args["params"]
    if not isinstance(o, dict):
        raise bad_argument("params", "ATN-6.3", "expected an object, got %s" % _describe(o))
    for name in ("w_xh", "w_hh"):
        if name not in o:
            raise bad_argument("params." + name, "ATN-6.3", "missing")
    params = {
        "w_xh": _mat(o["w_xh"], dtype, "params.w_xh", I, 4 * H, budget, "ATN-6.8"),
        "w_hh": _mat(o["w_hh"], dtype, "params.w_hh", H, 4 * H, budget, "ATN-6.8"),
        "b_x": [0.0] * (4 * H) if "b_x" not in o else _vec(o["b_x"], dtype, "params.b_x", 4 * H, budget, "ATN-6.8"),
        "b_h": [0.0] * (4 * H) if "b_h" not in o else _vec(o["b_h"], dtype, "params.b_h", 4 * H, budget, "ATN-6.8"),
    }
    for name, n in (("atn_x", 4 * H), ("atn_h", 4 * H), ("atn_c", H)):
        params[name] = _affine(o.get(name, _MISSING), dtype, "params." + name, n, budget, "ATN-6.8")
    return {"dtype": dtype, "k": k, "eps": eps, "x": x, "h0": h0, "c0": c0, "params": params, "T": T, "B": B, "I": I, "H": H}


def parse_lstm_vjp(args, dtypes):
    p = parse_lstm(args, dtypes)
    if "dh" not in args:
        raise bad_argument("dh", "ATN-6.3", "missing")
    p["dh"] = _ten3(args["dh"], p["dtype"], "dh", (p["T"], p["B"], p["H"]), _Budget(MAX_ELEMENTS), "ATN-6.8")
    return p


# ---- the server loop -----------------------------------------------------------------------------------------------

def _envelope(v):
    """(id, op, args) or raises AtnError with the id to answer (ATN-8.2), like protocol/target.ts checkEnvelope."""
    if not isinstance(v, dict):
        raise _Bad(None, AtnError("bad_request", "ATN-8.2", "request must be a JSON object {id, op, args} (ATN-8.2)"))
    rid = v.get("id")
    ok_id = isinstance(rid, (str, int, float)) and not isinstance(rid, bool)
    rid = rid if ok_id else None
    if not ok_id:
        raise _Bad(rid, AtnError("bad_request", "ATN-8.2", "id: must be a string or a number (ATN-8.2)", "id"))
    if not isinstance(v.get("op"), str):
        raise _Bad(rid, AtnError("bad_request", "ATN-8.2", "op: must be a string (ATN-8.2)", "op"))
    args = v.get("args", {})
    if not isinstance(args, dict):
        raise _Bad(rid, AtnError("bad_request", "ATN-8.2", "args: must be an object (ATN-8.2)", "args"))
    return rid, v["op"], args


class _Bad(Exception):
    def __init__(self, rid, err):
        super().__init__(err.message)
        self.rid, self.err = rid, err


def _read_lines(stream):
    """Lines of bytes; an over-long line is replaced by its length (int) without being held in memory."""
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            n = len(line)
            while True:
                more = stream.readline(1 << 20)
                n += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield n
            continue
        yield line


def answer(line, hello, handlers):
    """One response dict for one request line (bytes), or None for a blank line. Never raises."""
    if isinstance(line, int):
        return {"id": None, "ok": False, "error": {"code": "too_large", "clause": "ATN-6.9",
                "message": "line of %d bytes exceeds the limit of %d bytes (ATN-6.9)" % (line, MAX_LINE_BYTES)}}
    try:
        # strict (ATN-8.1): replacement characters would alter an id; a leading byte-order mark is dropped
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return {"id": None, "ok": False, "error": {"code": "parse_error", "clause": "ATN-8.1",
                "message": "the line is not valid UTF-8 (a malformed sequence at byte %d) (ATN-8.1)" % e.start}}
    if text.strip() == "":
        return None
    try:
        v = loads(text)
    except (ValueError, RecursionError) as e:
        return {"id": None, "ok": False, "error": {"code": "parse_error", "clause": "ATN-8.1", "message": "line is not JSON: %s (ATN-8.1)" % e}}
    rid = None
    try:
        rid, op, args = _envelope(v)
        if op == "hello":
            return {"id": rid, "ok": True, "result": dict(hello)}
        h = handlers.get(op)
        if h is None:
            raise AtnError("unknown_op", "ATN-8.5", "op: unknown op %s; this target serves %s (ATN-8.5)"
                           % (json.dumps(op[:60]), ", ".join(["hello"] + list(handlers))), "op")
        return {"id": rid, "ok": True, "result": h(args)}
    except _Bad as b:
        return {"id": b.rid, "ok": False, "error": b.err.body()}
    except AtnError as e:
        return {"id": rid, "ok": False, "error": e.body()}
    except RecursionError:
        return {"id": rid, "ok": False, "error": {"code": "bad_argument", "clause": "ATN-6.3", "message": "arrays nested too deeply (ATN-6.3)"}}
    except Exception as e:  # the server keeps serving (ATN-8.6)
        return {"id": rid, "ok": False, "error": {"code": "internal", "clause": "ATN-8.6", "message": "internal error: %s: %s" % (type(e).__name__, e)}}


_DUMPS = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
_STREAM_ITEMS = 4096  # an array longer than this is written item by item


def _is_large(v, depth=0):
    """true when v holds an array longer than _STREAM_ITEMS within its first levels (a result worth streaming)."""
    if isinstance(v, list):
        return len(v) > _STREAM_ITEMS or (depth < 4 and any(_is_large(x, depth + 1) for x in v[:8]))
    if isinstance(v, dict):
        return depth < 4 and any(_is_large(x, depth + 1) for x in v.values())
    return False


def json_pieces(v):
    """The JSON text of an encoded value in pieces: long arrays item by item, so that an answer of tens of millions of
    numbers (an lstm.forward of 600,000 steps) is written without one string of all of it (protocol/server.ts does the
    same). Raises ValueError/TypeError, as json.dumps does, for what JSON cannot hold."""
    if isinstance(v, list) and len(v) > 64:
        yield "["
        for i, x in enumerate(v):
            if i:
                yield ","
            yield from json_pieces(x)
        yield "]"
    elif isinstance(v, dict) and _is_large(v):
        yield "{"
        for i, (k, x) in enumerate(v.items()):
            yield ("," if i else "") + _DUMPS(str(k)) + ":"
            yield from json_pieces(x)
        yield "}"
    else:
        yield _DUMPS(v)


def _write_response(res, stdout):
    """One response line. A small answer is checked whole before anything is written (so a result JSON cannot hold
    becomes an internal error); a large one is streamed, and cut into a non-JSON line if it fails midway, which the
    runner reports as the port's broken answer."""
    enc = encode(res)
    if _is_large(enc):
        write = stdout.write
        buf = []
        size = 0
        for piece in json_pieces(enc):
            buf.append(piece)
            size += len(piece)
            if size >= 1 << 20:
                write("".join(buf))
                buf, size = [], 0
        write("".join(buf) + "\n")
        return
    try:
        out = _DUMPS(enc)
    except (ValueError, TypeError) as e:
        out = _DUMPS({"id": encode(res.get("id")), "ok": False, "error": {"code": "internal", "clause": "ATN-8.6",
                      "message": "internal error: result cannot be written as JSON: %s" % e}})
    stdout.write(out + "\n")


def serve(hello, handlers, stdin=None, stdout=None):
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout
    for line in _read_lines(stdin):
        res = answer(line, hello, handlers)
        if res is None:
            continue
        _write_response(res, stdout)
        stdout.flush()


def check_windows(a, k, eps, arg="a"):
    """degenerate_window (ATN-6.6) for the first window (t, then b) whose entries are all equal while eps = 0: an
    adapter checks this before handing the input to a module (which would answer NaN)."""
    if eps != 0:
        return
    for t in range(len(a)):
        for b in range(len(a[t])):
            vals = [v for s in range(max(0, t - k + 1), t + 1) for v in a[s][b]]
            if min(vals) == max(vals):
                raise AtnError("degenerate_window", "ATN-6.6",
                               "%s: the window of step t=%d, sample b=%d (0-based) is constant and eps = 0, so var + eps = 0 (ATN-6.6)"
                               % (arg, t, b), arg)
