"""A step-wise ATN-LSTM cell written the way research code is (issue 11): it is NOT atn-kit code and it is checked as
it stands, with serve.py flags only. Its habits, each one a reason a port needs a wrapper without those flags:

- argparse at import: `args = parser.parse_args()` runs when the file is imported;
- k is the module-level global `args.max_time`, read when an ATN is built; eps is never passed (always 1e-5);
- step-wise: `Normalized_LSTMCell(input_size, hidden_size)`, `forward(input_, (h_0, c_0)) -> (h_1, c_1)` on [B][I],
  [B][H]; the caller loops over time;
- its own parameter names: weight_ih [I][4H], weight_hh [H][4H], bias_x, bias_h, and three ATN submodules norm_ih,
  norm_hh, norm_c with weight and bias; its gate order is i, f, g, o (the protocol's is f, i, o, g);
- each ATN keeps its window in memory and is emptied by reset_in_memory() between sequences.

    node bin/atn.js report --port "/usr/bin/python3 ports/torch/serve.py --module ports/torch/examples/normalized_lstm_cell.py
      --convention cell --build 'Normalized_LSTMCell(I, H)' --atn-build 'AssortedTimeNorm(features)' --setup 'args.max_time = k'
      --param w_xh=weight_ih --param w_hh=weight_hh --param b_x=bias_x --param b_h=bias_h
      --param atn_x=norm_ih --param atn_h=norm_hh --param atn_c=norm_c --gates ifgo --reset reset_in_memory --eps 1e-5"
"""
import argparse

import torch
import torch.nn as nn

parser = argparse.ArgumentParser(description='ATN-LSTM language model')
parser.add_argument('--max_time', type=int, default=5, help='k: number of time steps the normalization looks back')
parser.add_argument('--nhid', type=int, default=200)
parser.add_argument('--lr', type=float, default=20)
args = parser.parse_args()


class AssortedTimeNorm(nn.Module):
    """Normalizes x_t with the statistics of the last max_time inputs (pooled over time and features)."""

    def __init__(self, num_features, eps=1e-5):
        super(AssortedTimeNorm, self).__init__()
        self.max_time = args.max_time
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.memory = []

    def reset_in_memory(self):
        self.memory = []

    def forward(self, input_):
        self.memory.append(input_)
        if len(self.memory) > self.max_time:
            self.memory.pop(0)
        window = torch.stack(self.memory, 1)  # B x n x H
        mean = window.mean(dim=(1, 2), keepdim=True).squeeze(1)
        var = ((window - mean.unsqueeze(1)) ** 2).mean(dim=(1, 2), keepdim=True).squeeze(1)
        out = (input_ - mean) / torch.sqrt(var + self.eps)
        return out * self.weight + self.bias


class Normalized_LSTMCell(nn.Module):

    def __init__(self, input_size, hidden_size):
        super(Normalized_LSTMCell, self).__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.Tensor(input_size, 4 * hidden_size))
        self.weight_hh = nn.Parameter(torch.Tensor(hidden_size, 4 * hidden_size))
        self.bias_x = nn.Parameter(torch.zeros(4 * hidden_size))
        self.bias_h = nn.Parameter(torch.zeros(4 * hidden_size))
        self.norm_ih = AssortedTimeNorm(4 * hidden_size)
        self.norm_hh = AssortedTimeNorm(4 * hidden_size)
        self.norm_c = AssortedTimeNorm(hidden_size)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.orthogonal_(self.weight_ih.data)
        self.weight_hh.data.set_(torch.eye(self.hidden_size).repeat(1, 4))

    def forward(self, input_, hx):
        h_0, c_0 = hx
        wh = torch.mm(h_0, self.weight_hh) + self.bias_h
        wi = torch.mm(input_, self.weight_ih) + self.bias_x
        gates = self.norm_ih(wi) + self.norm_hh(wh)
        i, f, g, o = torch.split(gates, self.hidden_size, dim=1)
        c_1 = torch.sigmoid(f) * c_0 + torch.sigmoid(i) * torch.tanh(g)
        h_1 = torch.sigmoid(o) * torch.tanh(self.norm_c(c_1))
        return h_1, c_1
