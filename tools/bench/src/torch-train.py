#!/usr/bin/env python3
"""PyTorch peer of tools/bench (bench:train): the same nets, batch, optimizer and timing rule.

  python3 torch-train.py '{"threads": 2, "nets": ["net2"], "images": 512, "batch": 128, "epochs": 3}'

Prints one JSON line: {"framework": "pytorch", "threads", "detail", "nets": [{net, train, infer}]},
rates in images/s (median of `epochs` timed epochs after one warm-up epoch). Data: fixed random
images [N, 1, 96, 96] in [0, 1) and targets [N, 30] in [-1, 1).
"""
import json
import statistics
import sys
import time

import torch
from torch import nn


def build(name):
    if name == "net1":
        return nn.Sequential(nn.Flatten(), nn.Linear(96 * 96, 100), nn.ReLU(), nn.Linear(100, 30))
    drop = name == "net6"
    layers = []

    def dropout(rate):
        if drop:
            layers.append(nn.Dropout(rate))

    layers += [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2)]
    dropout(0.1)
    layers += [nn.Conv2d(32, 64, 2), nn.ReLU(), nn.MaxPool2d(2)]
    dropout(0.2)
    layers += [nn.Conv2d(64, 128, 2), nn.ReLU(), nn.MaxPool2d(2)]
    dropout(0.3)
    layers += [nn.Flatten(), nn.Linear(128 * 11 * 11, 500), nn.ReLU()]
    dropout(0.5)
    layers += [nn.Linear(500, 500), nn.ReLU(), nn.Linear(500, 30)]
    return nn.Sequential(*layers)


def rate(runs):
    return {"median": statistics.median(runs), "min": min(runs), "max": max(runs), "runs": [round(r, 2) for r in runs]}


def blas_libraries():
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "blas" in line.split()[-1]})


def main():
    opts = json.loads(sys.argv[1])
    threads, images, batch, epochs = opts["threads"], opts["images"], opts["batch"], opts["epochs"]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    xs = torch.rand(images, 1, 96, 96)
    ys = torch.rand(images, 30) * 2 - 1
    batches = [(xs[i:i + batch], ys[i:i + batch]) for i in range(0, images, batch)]
    results = []
    for name in opts["nets"]:
        model = build(name)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
        loss_fn = nn.MSELoss()

        def train_epoch():
            model.train()
            last = None
            for xb, yb in batches:
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()
                last = loss.item()
            return last

        def infer_epoch():
            model.eval()
            with torch.no_grad():
                for xb, _ in batches:
                    model(xb)

        def timed(f):
            f()
            runs = []
            for _ in range(epochs):
                t0 = time.perf_counter()
                f()
                runs.append(images / (time.perf_counter() - t0))
            return runs

        train = timed(train_epoch)
        loss = train_epoch()
        infer = timed(infer_epoch)
        results.append({"net": name, "train": rate(train), "infer": rate(infer), "finalLoss": loss})
        print(f"  pytorch {threads}t {name}: train {results[-1]['train']['median']:.1f} img/s, "
              f"infer {results[-1]['infer']['median']:.1f} img/s", file=sys.stderr, flush=True)
    blas = blas_libraries()
    detail = f"PyTorch {torch.__version__}, {threads} thread(s), BLAS {', '.join(blas) or 'built in'}"
    print(json.dumps({"framework": "pytorch", "threads": threads, "detail": detail, "nets": results}))


if __name__ == "__main__":
    main()
