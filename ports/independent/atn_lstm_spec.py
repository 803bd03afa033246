"""An ATN-LSTM in PyTorch written from spec/atn.md alone (ATN-1, ATN-3), independent of ports/torch/atn_torch.py and
of the reference: it exists to test the suite's ATN-7.4 tolerances on an implementation they were not built from.
Gradients come from autograd; the window statistics use torch's own reductions (mean, then the mean of squared
deviations) on the window scaled by a power of two near its largest magnitude (ATN-7.2's assumption).

Served by ports/torch/serve.py's lstm convention (constructed as ATNLSTMSpec(I, H, k, eps), parameters by protocol
names, module(x, h0, c0) -> (h, c) of shape [T][B][H]):

    /usr/bin/python3 ports/torch/serve.py --module ports/independent/atn_lstm_spec.py --class ATNLSTMSpec --convention lstm

ATNLSTMChunk8 is the same with a real mistake: the three ATN windows restart every 8 steps (chunked truncated BPTT).
"""

import torch


class Affine(torch.nn.Module):
    def __init__(self, n):
        super().__init__()
        self.gain = torch.nn.Parameter(torch.ones(n))
        self.bias = torch.nn.Parameter(torch.zeros(n))


def atn_newest(window, eps, aff):
    """ATN-1.3/1.4 for the newest step of `window` ([n][B][W], oldest first): statistics pooled over steps and
    features per sample, biased variance, eps inside the square root."""
    n, B, W = window.shape
    flat = window.permute(1, 0, 2).reshape(B, n * W)  # [B][N]
    amax = flat.detach().abs().amax(dim=1, keepdim=True)
    # a power of two near the largest magnitude (exact scaling); 1 for an all-zero window
    e = torch.where(amax > 0, torch.floor(torch.log2(torch.where(amax > 0, amax, torch.ones_like(amax)))), torch.zeros_like(amax))
    sc = torch.pow(torch.full_like(amax, 2.0), -e)
    xs = flat * sc
    mu = xs.mean(dim=1, keepdim=True)
    var = ((xs - mu) ** 2).mean(dim=1, keepdim=True)
    s = torch.sqrt(var + eps * sc * sc)
    z = (xs[:, -W:] - mu) / s
    return aff.gain * z + aff.bias


class ATNLSTMSpec(torch.nn.Module):
    chunk = None  # no chunking: the window is W_t = {max(1, t-k+1) .. t}

    def __init__(self, I, H, k, eps):
        super().__init__()
        self.H, self.k, self.eps = H, k, eps
        self.w_xh = torch.nn.Parameter(torch.zeros(I, 4 * H))
        self.w_hh = torch.nn.Parameter(torch.zeros(H, 4 * H))
        self.b_x = torch.nn.Parameter(torch.zeros(4 * H))
        self.b_h = torch.nn.Parameter(torch.zeros(4 * H))
        self.atn_x = Affine(4 * H)
        self.atn_h = Affine(4 * H)
        self.atn_c = Affine(H)

    def forward(self, x, h0, c0):
        T = x.shape[0]
        H, k = self.H, self.k
        ax, ah, cs, hs = [], [], [], []
        h, c = h0, c0
        for t in range(T):
            ax.append(x[t] @ self.w_xh + self.b_x)
            ah.append(h @ self.w_hh + self.b_h)
            lo = max(0, t - k + 1)
            if self.chunk:
                lo = max(lo, t - t % self.chunk)
            pre = atn_newest(torch.stack(ax[lo:]), self.eps, self.atn_x) + atn_newest(torch.stack(ah[lo:]), self.eps, self.atn_h)
            f, i, o, g = pre[:, :H], pre[:, H:2 * H], pre[:, 2 * H:3 * H], pre[:, 3 * H:]
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            cs.append(c)
            h = torch.sigmoid(o) * torch.tanh(atn_newest(torch.stack(cs[lo:]), self.eps, self.atn_c))
            hs.append(h)
        return torch.stack(hs), torch.stack(cs)


class ATNLSTMChunk8(ATNLSTMSpec):
    chunk = 8
