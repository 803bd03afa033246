"""An ATN layer written the way the ATN authors' published class is (a test target, NOT our port): stateful, called
once per time step with a_t [B][H], `reset_in_memory()` between sequences, gain and bias as `weight` and `bias`, the
variance by torch.var(..., unbiased=False) on the unscaled window, and the output `.squeeze()`d.

Two things in it are wrong by spec/atn.md, both as in the published code, so that atn-kit's report must find exactly
them: `.squeeze()` drops the batch or feature dimension when B = 1 or H = 1 (ATN-8.5), and the unscaled variance
overflows or underflows for entries far from 1 with eps = 0 (ATN-7.2; ATN-7.6). Everything else is plain ATN.

    /usr/bin/python3 ports/torch/serve.py --module ports/torch/examples/authors_atn.py --class ATN \\
        --convention step --reset reset_in_memory --gain weight --bias bias
"""

import torch
from torch import nn


class ATN(nn.Module):
    def __init__(self, input_size, max_time, eps=1e-5):
        super().__init__()
        self.input_size = input_size
        self.max_time = max_time
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(input_size))
        self.bias = nn.Parameter(torch.zeros(input_size))
        self.memory = []

    def reset_in_memory(self):
        self.memory = []

    def forward(self, x):
        # x: [B][H], one time step; the window is the last max_time steps seen since the reset.
        self.memory.append(x)
        if len(self.memory) > self.max_time:
            self.memory = self.memory[-self.max_time:]
        window = torch.stack(self.memory, dim=1)  # [B][n][H]
        flat = window.reshape(window.shape[0], -1)
        mean = flat.mean(dim=1, keepdim=True)
        var = torch.var(flat, dim=1, unbiased=False, keepdim=True)
        x_norm = (x - mean) / torch.sqrt(var + self.eps)
        return (x_norm * self.weight + self.bias).squeeze()
