"""PyTorch side of scripts/bench-vs-pytorch.sh: times the same workloads as `adai-bench bench`.

Prints one JSON object: {"train_per_second": ..., "infer_per_second": ..., "train_peak_rss_bytes": ...
(after the training steps), "peak_rss_bytes": ... (after inference too)}.
The image models are the paper's own classes, imported from a checkout of its repository given by
`--paper-code` (scripts/fixtures/paper_models.py); the LSTM is scripts/fixtures/reference_models.py's. `--channels-last` is the "tuned" memory format; tcmalloc is
preloaded by the calling script.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fixtures"))
import paper_models  # noqa: E402
import reference_models  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="resnet18")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--infer-batch", type=int, default=256)
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bptt", type=int, default=35)
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--paper-code", help="checkout of zeke-xie/adaptive-inertia-adai (needed for the image models)")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    lm = a.model == "lstm"
    if lm:
        model = reference_models.build(a.model)
    elif a.paper_code is None:
        sys.exit("bench_pytorch: --paper-code DIR (a checkout of zeke-xie/adaptive-inertia-adai) is needed for " + a.model)
    else:
        model = paper_models.build(paper_models.load(a.paper_code), a.model, classes=a.classes)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    if lm:
        tokens = torch.randint(0, 10000, (a.bptt, a.batch))
        units, infer_units = a.bptt * a.batch, a.bptt * a.batch
    else:
        images = torch.randn(a.batch, 3, 32, 32)
        labels = torch.randint(0, a.classes, (a.batch,))
        infer_images = torch.randn(a.infer_batch, 3, 32, 32)
        if a.channels_last:
            model = model.to(memory_format=torch.channels_last)
            images = images.contiguous(memory_format=torch.channels_last)
            infer_images = infer_images.contiguous(memory_format=torch.channels_last)
        units, infer_units = a.batch, a.infer_batch

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        if lm:
            logits, _ = model(tokens)  # [T*B, vocabulary], from a zero state
            loss = torch.nn.functional.cross_entropy(logits, tokens.reshape(-1))
        else:
            loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    def infer_step():
        with torch.no_grad():
            model.eval()
            if lm:
                model(tokens)
            else:
                model(infer_images)
            model.train()

    def timed(step):
        step()  # warm-up
        times = []
        for _ in range(a.steps):
            t = time.perf_counter()
            step()
            times.append(time.perf_counter() - t)
        return statistics.median(times)

    train = timed(train_step)
    train_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    infer = timed(infer_step)
    print(json.dumps({"train_per_second": units / train, "infer_per_second": infer_units / infer,
                      "train_peak_rss_bytes": train_peak,
                      "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


if __name__ == "__main__":
    main()
