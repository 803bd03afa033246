"""Our PyTorch ATN (spec/atn.md ATN-1..ATN-4): a sequence module, a step-wise stateful module, and an ATN-LSTM.

    ATN(features, k, eps)      forward(a[T][B][H]) -> y[T][B][H]
    ATNStep(features, k, eps)  forward(a_t[B][H]) -> y_t[B][H], keeps the last k-1 inputs; reset() starts a sequence
    ATNLSTM(input_size, hidden_size, k, eps)  forward(x[T][B][I], h0[B][H], c0[B][H]) -> (h[T][B][H], c[T][B][H])

Gradients come from autograd. Numerical stability (ATN-7.2): each window of each sample is scaled by a power of two
2^-e (exact), e the exponent of max(max|a|, sqrt(eps)), so that the scaled entries and the scaled eps are at most 1:
no overflow of a^2 or of var, no cancellation beyond the two-pass mean, and the statistics stay window-local (no prefix
sums). Served over protocol v1 by ports/torch/serve.py.
"""

import math

import torch
from torch import nn


def window_z(win, eps):
    """z of the last step of a window. win: [n, B, H] (oldest first); returns [B, H]."""
    n, B, H = win.shape
    flat = win.permute(1, 0, 2).reshape(B, n * H)
    with torch.no_grad():
        m = flat.abs().amax(dim=1)
        if eps > 0:
            m = torch.clamp(m, min=math.sqrt(eps))
        _, e = torch.frexp(m)
        e = torch.where(m > 0, e, torch.zeros_like(e))
        # 2^-e must stay finite: subnormal windows are scaled up only as far as the dtype allows.
        e = torch.clamp(e, min=-120 if win.dtype == torch.float32 else -1000)
        scale = torch.pow(torch.tensor(2.0, dtype=win.dtype), -e.to(win.dtype)).unsqueeze(1)  # exact powers of two
        eps_s = (eps * scale * scale).squeeze(1) if eps > 0 else torch.zeros(B, dtype=win.dtype)
    xs = flat * scale
    mean = xs.mean(dim=1, keepdim=True)
    d = xs - mean
    var = torch.clamp((d * d).mean(dim=1) - d.mean(dim=1) ** 2, min=0)  # two-pass, with the first pass's correction
    # A constant window: z = 0, but s in scaled units may underflow (eps * 2^-2e = 0 for huge entries): normalise it
    # in the original units instead, so that the gradient is (1/sqrt(eps))(I - 1/N) as the spec says (ATN-4.1).
    const = (flat.detach().amax(dim=1) == flat.detach().amin(dim=1)).unsqueeze(1)
    # (the where sits inside the sqrt: sqrt'(0) = inf would turn the zero gradient of the unused branch into NaN)
    s = torch.sqrt(torch.where(const.squeeze(1), torch.ones_like(var), var + eps_s)).unsqueeze(1)
    z_var = d / s
    z_const = (flat - flat.mean(dim=1, keepdim=True)) / (math.sqrt(eps) if eps > 0 else 1.0)
    z = torch.where(const, z_const, z_var)
    return z[:, (n - 1) * H:]


class ATN(nn.Module):
    """ATN over a whole sequence a[T][B][H] (time-major, ATN-1.1)."""

    def __init__(self, features, k, eps=1e-5):
        super().__init__()
        if k < 1:
            raise ValueError("k must be >= 1")
        self.features, self.k, self.eps = features, k, float(eps)
        self.gain = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, a):
        T = a.shape[0]
        ys = [window_z(a[max(0, t - self.k + 1): t + 1], self.eps) for t in range(T)]
        return self.gain * torch.stack(ys) + self.bias


class ATNStep(ATN):
    """Stateful step-wise ATN: call once per time step; reset() between sequences (ATN-1.7). Same parameters as ATN."""

    def __init__(self, features, k, eps=1e-5):
        super().__init__(features, k, eps)
        self._hist = []

    def reset(self):
        self._hist = []

    def forward(self, a_t):
        win = torch.stack(self._hist + [a_t])
        self._hist = (self._hist + [a_t])[max(0, len(self._hist) + 2 - self.k):] if self.k > 1 else []
        return self.gain * window_z(win, self.eps) + self.bias


class ATNLSTM(nn.Module):
    """ATN-LSTM (ATN-3): gates [f, i, o, g] = split(ATN_x(x W_xh + b_x) + ATN_h(h W_hh + b_h)); c and h as in ATN-3.4/3.5.
    Each forward call is one sequence: the three windows start empty (h0 and c0 are in none of them)."""

    def __init__(self, input_size, hidden_size, k, eps=1e-5):
        super().__init__()
        I, H = input_size, hidden_size
        self.H = H
        bound = 1.0 / math.sqrt(H)  # standard LSTM initialisation (ATN-3.6, informative)
        self.w_xh = nn.Parameter(torch.empty(I, 4 * H).uniform_(-bound, bound))
        self.w_hh = nn.Parameter(torch.empty(H, 4 * H).uniform_(-bound, bound))
        self.b_x = nn.Parameter(torch.zeros(4 * H))
        self.b_h = nn.Parameter(torch.zeros(4 * H))
        self.atn_x = ATNStep(4 * H, k, eps)
        self.atn_h = ATNStep(4 * H, k, eps)
        self.atn_c = ATNStep(H, k, eps)

    def reset(self):
        for m in (self.atn_x, self.atn_h, self.atn_c):
            m.reset()

    def forward(self, x, h0, c0):
        self.reset()
        H = self.H
        h, c = h0, c0
        hs, cs = [], []
        for t in range(x.shape[0]):
            gates = self.atn_x(x[t] @ self.w_xh + self.b_x) + self.atn_h(h @ self.w_hh + self.b_h)
            f, i, o, g = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(self.atn_c(c))
            hs.append(h)
            cs.append(c)
        self.reset()  # no graph kept alive between sequences
        return torch.stack(hs), torch.stack(cs)
