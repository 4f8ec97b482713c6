#!/usr/bin/env python3
"""Runs a PyTorch optimizer class and one of ours on the same analytic functions and prints how far
apart their trajectories are.

    python3 scripts/compare-with-pytorch.py --torch-class lion_pytorch:Lion --ours lion \
        --set lr=1e-3 --set betas=0.9,0.99 --set weightDecay=0.1

--torch-class PKG.MODULE:CLASS  the class to import (from the Python environment this script runs in:
                                a venv with torch and the user's package; nothing is installed here).
--ours NAME                     the registry name of ours (`adai-bench optimize --help` lists them).
--set key=value                 a setting for both, in our spelling (`weightDecay`, `betas=0.9,0.99`);
                                PyTorch gets it in snake_case (`weight_decay`, betas as a tuple).
--torch-set key=value           a keyword argument for the PyTorch class only (its own spelling).
--ours-set key=value            a setting for ours only.

Ours runs through `adai-bench optimize` (the binary built by `swift build -c release`, or --binary);
PyTorch runs in float32 on the CPU with gradients by autograd. Functions: a quadratic with curvatures
spread over four decades, Rosenbrock, and a saddle (the quadratic with one small negative curvature),
as `adai-bench optimize` defines them. For each function and window of steps the script prints the
worst relative difference of the point, max over steps of max_i |x_ours - x_torch| / max_i |x_torch|
(the error model of the parity tests), and of the loss.

Float32 rounding alone gives differences of about 1e-7 per step that can grow along a trajectory
(the more so on Rosenbrock's curved valley); a difference of order one from the first window on means
the two do different things. The test suite never needs this script.
"""
import argparse
import csv
import importlib
import io
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# (function, dimension, initial point, curvatures or None)
FUNCTIONS = [
    ("quadratic", 5, [1.0, 1.0, 1.0, 1.0, 1.0], [0.01, 0.1, 1.0, 10.0, 100.0]),
    ("rosenbrock", 2, [-1.5, 2.0], None),
    ("saddle", 3, [0.1, -0.1, 0.001], [1.0, 1.0, -0.01]),
]


def parse_value(text):
    t = text.strip()
    if t in ("true", "false"):
        return t == "true"
    if "," in t:
        return [float(x) for x in t.split(",")]
    try:
        return float(t)
    except ValueError:
        sys.exit(f"compare-with-pytorch: cannot read '{text}' as a number, true/false or a comma-separated list")


def parse_assignments(items, flag):
    out = {}
    for item in items:
        if "=" not in item or item.startswith("="):
            sys.exit(f"compare-with-pytorch: {flag} expects key=value, got '{item}'")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def snake(key):
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).lower()


def load_class(spec):
    if ":" not in spec:
        sys.exit(f"compare-with-pytorch: --torch-class must look like PKG.MODULE:CLASS, got '{spec}'")
    module_name, class_name = spec.split(":", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        sys.exit(f"compare-with-pytorch: cannot import '{module_name}' ({error}); run this script with the "
                 f"Python of an environment that has torch and your package")
    try:
        return getattr(module, class_name)
    except AttributeError:
        sys.exit(f"compare-with-pytorch: module '{module_name}' has no '{class_name}'")


def value_of(function, x, curvatures):
    if function == "rosenbrock":
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()
    import torch
    h = torch.tensor(curvatures, dtype=torch.float32)
    return 0.5 * (h * x ** 2).sum()


def run_torch(cls, kwargs, function, init, curvatures, steps):
    import torch
    x = torch.nn.Parameter(torch.tensor(init, dtype=torch.float32))
    optimizer = cls([x], **kwargs)
    rows = [[float(value_of(function, x.detach(), curvatures))] + x.detach().tolist()]
    for _ in range(steps):
        optimizer.zero_grad()
        value_of(function, x, curvatures).backward()
        optimizer.step()
        rows.append([float(value_of(function, x.detach(), curvatures))] + x.detach().tolist())
    return rows


def run_ours(binary, name, settings, function, dim, init, curvatures, steps):
    command = [binary, "optimize", "--function", function, "--dim", str(dim), "--optimizer", name,
               "--steps", str(steps), "--init", ",".join(repr(v) for v in init)]
    if function == "quadratic":
        command += ["--set", "curvatures=" + ",".join(repr(v) for v in curvatures)]
    for key, value in settings.items():
        command += ["--set", f"{key}={value}"]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compare-with-pytorch: adai-bench optimize failed: {result.stderr.strip()}")
    reader = csv.reader(io.StringIO(result.stdout))
    next(reader)
    return [[float(v) for v in row[1:]] for row in reader]


def relative(a, b):
    scale = max(abs(v) for v in b)
    difference = max(abs(x - y) for x, y in zip(a, b))
    if difference == 0:
        return 0.0
    return difference / max(scale, 1e-38)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--torch-class", required=True, metavar="PKG.MODULE:CLASS")
    parser.add_argument("--ours", required=True, metavar="NAME")
    parser.add_argument("--set", action="append", default=[], metavar="key=value")
    parser.add_argument("--torch-set", action="append", default=[], metavar="key=value")
    parser.add_argument("--ours-set", action="append", default=[], metavar="key=value")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--binary", default=None, help="adai-bench (default: .build/release, else .build/debug)")
    args = parser.parse_args()
    if args.steps < 1 or args.window < 1:
        sys.exit("compare-with-pytorch: --steps and --window must be >= 1")

    binary = args.binary
    if binary is None:
        for configuration in ("release", "debug"):
            candidate = os.path.join(ROOT, ".build", configuration, "adai-bench")
            if os.access(candidate, os.X_OK):
                binary = candidate
                break
    if binary is None or not os.access(binary, os.X_OK):
        sys.exit("compare-with-pytorch: no adai-bench binary; run `swift build -c release` or pass --binary")

    import torch
    torch.set_num_threads(1)
    cls = load_class(args.torch_class)
    shared = parse_assignments(args.set, "--set")
    ours = dict(shared, **parse_assignments(args.ours_set, "--ours-set"))
    kwargs = {}
    for key, text in shared.items():
        value = parse_value(text)
        kwargs[snake(key)] = tuple(value) if isinstance(value, list) else value
    for key, text in parse_assignments(args.torch_set, "--torch-set").items():
        value = parse_value(text)
        kwargs[key] = tuple(value) if isinstance(value, list) else value

    print(f"# {args.torch_class}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}) against adai-bench "
          f"'{args.ours}' {' '.join(f'{k}={v}' for k, v in ours.items())}; torch {torch.__version__}, float32")
    if "lr" not in shared and "lr" not in ours:
        print("# note: no lr given; each side uses its own default, which may differ")
    print("function    | steps     | worst rel. diff. of x | worst rel. diff. of loss")
    print("----------- | --------- | --------------------- | ------------------------")
    overall = 0.0
    for function, dim, init, curvatures in FUNCTIONS:
        theirs = run_torch(cls, kwargs, function, init, curvatures, args.steps)
        mine = run_ours(binary, args.ours, ours, function, dim, init, curvatures, args.steps)
        if len(mine) != len(theirs):
            sys.exit(f"compare-with-pytorch: {function}: {len(mine)} rows from adai-bench, {len(theirs)} from PyTorch")
        for start in range(1, args.steps + 1, args.window):
            end = min(start + args.window - 1, args.steps)
            dx = max(relative(mine[t][1:], theirs[t][1:]) for t in range(start, end + 1))
            dl = max(relative([mine[t][0]], [theirs[t][0]]) for t in range(start, end + 1))
            overall = max(overall, dx)
            print(f"{function:<11} | {start:>4}-{end:<4} | {dx:21.3e} | {dl:24.3e}")
    print(f"# worst relative difference of x over all functions and steps: {overall:.3e}")


if __name__ == "__main__":
    main()
