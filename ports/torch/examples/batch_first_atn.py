"""A batch-first ATN module ([B][T][H] in and out), written independently of atn-kit's: each window is sliced out and
its statistics taken with torch.var_mean. Checked with serve.py --layout bth; without it the adapter hands it
[T][B][H] and the campaign shows the confusion (issue 11: no shape error, wrong numbers).

    node bin/atn.js report --port "/usr/bin/python3 ports/torch/serve.py --module ports/torch/examples/batch_first_atn.py
      --class BatchFirstATN --convention sequence --layout bth"
"""
import torch
from torch import nn


class BatchFirstATN(nn.Module):
    def __init__(self, features, k, eps=1e-5):
        super().__init__()
        self.k, self.eps = k, eps
        self.gain = nn.Parameter(torch.ones(features))
        self.bias = nn.Parameter(torch.zeros(features))

    def forward(self, a):  # a: [B][T][H]
        out = []
        for t in range(a.shape[1]):
            win = a[:, max(0, t - self.k + 1):t + 1, :]  # [B][n_t][H]
            var, mean = torch.var_mean(win, dim=(1, 2), unbiased=False, keepdim=True)
            out.append((a[:, t:t + 1, :] - mean) / torch.sqrt(var + self.eps))
        return torch.cat(out, dim=1) * self.gain + self.bias
