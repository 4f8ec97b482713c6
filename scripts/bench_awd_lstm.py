"""PyTorch side of scripts/bench-awd-lstm.sh: training throughput of the AdaMomentum authors' AWD-LSTM.

A re-implementation (not a copy) of the model class the authors train in wyzjack/AdaM3
LSTM_Penn_Treebank/model.py with its helpers (embed_regularize.py, locked_dropout.py, weight_drop.py) at
e715cde47d7f77d0fdb4e083511dec03a6b0ff3c, with main.py's defaults: embedding 400, hidden 1150, tied
encoder and decoder, dropouts 0.4 (output), 0.25 (between layers), 0.4 (input), 0.1 (words), weight drop
0.5, AR α = 2 and TAR β = 1. Their weight drop as it behaves: each forward pass wraps the dropped
hidden-to-hidden matrix in a new Parameter, a leaf that requires a gradient (so PyTorch computes its
gradient) and is cut from the raw matrix (which therefore never gets one).

One step, as `adai-bench bench --model awd-lstm-<n>layer` times it: fresh masks, zero initial state, a fixed
window of random tokens (batch × bptt), loss = cross-entropy + AR + TAR, backward, SGD with momentum 0.9 at
lr 1e-3 (no clipping on either side). Prints one JSON object with tokens per second (median step).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class WordDropEmbedding(nn.Module):
    """Embedding whose whole rows (words) are dropped with p per forward pass (embed_regularize.py)."""

    def __init__(self, vocabulary, size, p):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(vocabulary, size).uniform_(-0.1, 0.1))
        self.p = p

    def forward(self, words):
        w = self.weight
        if self.training and self.p > 0:
            keep = torch.empty(w.size(0), 1).bernoulli_(1 - self.p) / (1 - self.p)
            w = w * keep
        return F.embedding(words, w, padding_idx=w.size(0) - 1)


def locked_dropout(x, p, training):
    """One [1, B, D] mask shared by every time step (locked_dropout.py)."""
    if not training or p == 0:
        return x
    mask = x.new_empty(1, x.size(1), x.size(2)).bernoulli_(1 - p) / (1 - p)
    return x * mask


class WeightDropLSTM(nn.Module):
    """One LSTM layer with the authors' weight drop on W_hh: a new leaf Parameter per pass."""

    def __init__(self, inputs, hidden, p):
        super().__init__()
        bound = 1 / hidden ** 0.5
        self.w_ih = nn.Parameter(torch.empty(4 * hidden, inputs).uniform_(-bound, bound))
        self.w_hh_raw = nn.Parameter(torch.empty(4 * hidden, hidden).uniform_(-bound, bound))
        self.b_ih = nn.Parameter(torch.empty(4 * hidden).uniform_(-bound, bound))
        self.b_hh = nn.Parameter(torch.empty(4 * hidden).uniform_(-bound, bound))
        self.p, self.hidden = p, hidden

    def forward(self, x, state):
        w_hh = nn.Parameter(F.dropout(self.w_hh_raw, p=self.p, training=self.training))
        out, h, c = torch._VF.lstm(x, state, [self.w_ih, w_hh, self.b_ih, self.b_hh], True, 1, 0.0, self.training,
                                   False, False)
        return out, (h, c)


class AWDLSTM(nn.Module):
    def __init__(self, layers, vocabulary=10000, embedding=400, hidden=1150):
        super().__init__()
        self.encoder = WordDropEmbedding(vocabulary, embedding, 0.1)
        sizes = [embedding] + [hidden] * (layers - 1) + [embedding]
        self.rnns = nn.ModuleList(WeightDropLSTM(sizes[l], sizes[l + 1], 0.5) for l in range(layers))
        self.decoder_bias = nn.Parameter(torch.zeros(vocabulary))

    def forward(self, words):
        T, B = words.shape
        x = locked_dropout(self.encoder(words), 0.4, self.training)
        outputs = []
        for l, rnn in enumerate(self.rnns):
            state = (x.new_zeros(1, B, rnn.hidden), x.new_zeros(1, B, rnn.hidden))
            x, _ = rnn(x, state)
            outputs.append(x)
            if l < len(self.rnns) - 1:
                x = locked_dropout(x, 0.25, self.training)
        dropped = locked_dropout(x, 0.4, self.training)
        logits = F.linear(dropped.view(T * B, -1), self.encoder.weight, self.decoder_bias)  # tied decoder
        return logits, outputs[-1], dropped


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--bptt", type=int, default=70)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = AWDLSTM(a.layers)
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    words = torch.randint(0, 10000, (a.bptt, a.batch))
    targets = torch.randint(0, 10000, (a.bptt * a.batch,))

    def step():
        logits, last, dropped = model(words)
        loss = F.cross_entropy(logits, targets) + 2 * dropped.pow(2).mean() + 1 * (last[1:] - last[:-1]).pow(2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up
    times = []
    for _ in range(a.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    print(json.dumps({"layers": a.layers, "batch": a.batch, "bptt": a.bptt, "threads": torch.get_num_threads(),
                      "steps": a.steps, "train_step_seconds_median": median, "train_per_second": a.batch * a.bptt / median,
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
