#!/usr/bin/env python3
"""PyTorch peer of tools/bench bench:time-to-accuracy: the same recipe, split and wall-time rule.

  python3 torch-tta.py JOB.json
  python3 torch-tta.py --check CHECK.json   (what the tests compare with the TypeScript side; see check())

JOB.json (written by time-to-accuracy.ts):
  {"config": <the resolved TrainConfig of the keypoints run>, "minutes": N, "threads": 2,
   "data": "<folder>", "columns": [30 column names], "flipPairs": [[a, b], ...]}
<folder> holds the run's split exactly as loadRunData made it, as float32 .npy files:
  train_images [N, 96, 96] in [0, 1], train_targets [N, K] normalized (px - 48) / 48,
  train_mask [N, K] 0/1, and the same three for valid_.

Prints one line per epoch and a last one, each `TTA {json}`:
  {"epoch", "durationMs", "trainRmsePx", "validRmsePx", "learningRate", "momentum", "elapsedMs"}
  {"done": true, "epochs", "bestValidRmsePx", "bestEpoch", "seconds", "stopReason", "detail"}

What it reproduces (read the TypeScript it mirrors when changing either side):
- models: Nouri's net1 / CNN (cnn.builder.ts: conv 32@3, 64@2, 128@2, 2x2 pools, dense 500/500 or
  the config's, Nouri dropout with `dropout`; Glorot-uniform kernels, zero biases) and the modern
  conv net (conv-net.builder.ts: blocks of 3x3 'same' convs, no bias with batch norm,
  BatchNorm2d(momentum 0.01, eps 1e-3) = tfjs's 0.99 / 1e-3, ReLU, 2x2 max-pool; flatten, dense
  ReLU, [dropout], dense out; He-uniform kernels, Glorot-uniform output, zero biases);
- optimizers (optimizers.ts, nesterov-momentum.optimizer.ts): SGD with Nesterov momentum (tfjs's
  v = mu v + g; w -= lr (g + mu v) is torch's SGD(nesterov=True)), Adam / AdamW with beta 0.9 / 0.999,
  eps 1e-7 and the decoupled decay on kernels (rank >= 2) only;
- losses (losses.ts): masked MSE, L1, Wing (w 10 px, eps 2 px on the errors x 48);
- schedules (schedules.callback.ts): linear / cosine with warm-up, set at each epoch start, planned
  over min(the schedule's epochs, the epochs that fit in the time budget at the mean epoch duration);
- augmentations (data/src/augment): flip of floor(size / 2) samples per batch (x -> 95 - x px, swap of
  the left/right pairs), affine (shift +-3 px, rotation +-10 deg, scale +-5 %, bilinear, edge fill,
  keypoints moved the same way, keypoints leaving the frame masked), photometric (contrast x[0.7, 1.3]
  about the image mean, brightness +-0.1, clamp to [0, 1]), in that order, training batches only;
- the stop rule (max-time.callback.ts): at an epoch end, stop when the budget is spent or what is
  left is less than the last epoch took; the time counts from the fit's start.
Validation RMSE in pixels = sqrt(masked MSE) x 48, in eval mode (batch norm's running statistics).
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

PREFIX = "TTA "
SIZE = 96
SCALE = 48.0  # normalized -> pixels: px = 48 v + 48
CENTRE = (SIZE - 1) / 2  # 47.5, the pixel-centre convention of the converter
FRAME_MIN, FRAME_MAX = -0.5, SIZE - 0.5
WING_W, WING_EPS = 10.0, 2.0
NOURI_POOL_DROPOUT = (0.1, 0.2, 0.3)


def emit(obj):
    print(PREFIX + json.dumps(obj), flush=True)


# ---------------------------------------------------------------------------------------- models

def glorot(layer):
    nn.init.xavier_uniform_(layer.weight)
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def he(layer):
    nn.init.kaiming_uniform_(layer.weight, mode="fan_in", nonlinearity="relu")  # sqrt(6 / fan_in), tfjs heUniform
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
    return layer


def nouri_net(cfg, outputs):
    if cfg["model"] == "net1":
        return nn.Sequential(nn.Flatten(), glorot(nn.Linear(SIZE * SIZE, 100)), nn.ReLU(), glorot(nn.Linear(100, outputs)))
    dense = cfg.get("dense") or [500, 500]
    padding = cfg.get("padding", "valid")
    dropout = bool(cfg.get("dropout", False))
    layers, size, cin = [], SIZE, 1
    for (cout, k), rate in zip(((32, 3), (64, 2), (128, 2)), NOURI_POOL_DROPOUT):
        layers += [glorot(nn.Conv2d(cin, cout, k, padding=padding)), nn.ReLU(), nn.MaxPool2d(2)]
        if dropout:
            layers.append(nn.Dropout(rate))
        size = (size - (k - 1 if padding == "valid" else 0)) // 2
        cin = cout
    layers += [nn.Flatten(), glorot(nn.Linear(cin * size * size, dense[0])), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers += [glorot(nn.Linear(dense[0], dense[1])), nn.ReLU(), glorot(nn.Linear(dense[1], outputs))]
    return nn.Sequential(*layers)


def conv_net(net, outputs):
    filters = net["filters"]
    per_block = net.get("convsPerBlock", 1)
    batch_norm = net.get("batchNorm", True)
    dense = net.get("dense", 256)
    dropout = net.get("dropout", 0)
    layers, size, cin = [], SIZE, 1
    for f in filters:
        for _ in range(per_block):
            layers.append(he(nn.Conv2d(cin, f, 3, padding=1, bias=not batch_norm)))
            if batch_norm:
                layers.append(nn.BatchNorm2d(f, eps=1e-3, momentum=0.01))
            layers.append(nn.ReLU())
            cin = f
        layers.append(nn.MaxPool2d(2))
        size //= 2
    layers += [nn.Flatten(), he(nn.Linear(cin * size * size, dense)), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(glorot(nn.Linear(dense, outputs)))
    return nn.Sequential(*layers)


def build_model(cfg, outputs):
    return conv_net(cfg["convNet"], outputs) if cfg.get("convNet") else nouri_net(cfg, outputs)


# ------------------------------------------------------------------------- optimizer, loss, plan

def make_optimizer(cfg, model):
    name = cfg.get("optimizer", "nesterov")
    lr = cfg["learningRate"]
    if name == "nesterov":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=cfg["momentum"], nesterov=True)
    decay = (cfg.get("weightDecay") if cfg.get("weightDecay") is not None else 1e-4) if name == "adamw" else 0.0
    params = list(model.parameters())
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-7)


def masked_mean(values, mask):
    return (values * mask).sum() / mask.sum().clamp(min=1)


def loss_fn(name):
    if name == "mse":
        return lambda p, y, m: masked_mean((p - y) ** 2, m)
    if name == "l1":
        return lambda p, y, m: masked_mean((p - y).abs(), m)
    if name == "wing":
        def wing(p, y, m):
            x = (p - y).abs() * SCALE
            return masked_mean(WING_W * torch.log1p(torch.clamp(x, max=WING_W) / WING_EPS) + F.relu(x - WING_W), m)
        return wing
    raise ValueError(f"unknown loss {name!r}")


def schedule_fn(s):
    start, stop = s["start"], s["stop"]
    if s.get("shape") == "cosine":
        warmup = s.get("warmup", 0)

        def cosine(e, epochs):
            if e < warmup:
                return start * (e + 1) / warmup
            t = 1.0 if epochs - 1 - warmup <= 0 else min(1.0, (e - warmup) / (epochs - 1 - warmup))
            return stop + (start - stop) * (1 + math.cos(math.pi * t)) / 2
        return cosine
    return lambda e, epochs: start if epochs <= 1 else start + (stop - start) * e / (epochs - 1)


class Plan:
    """ScheduleCallback with a time budget: span = min(planned, epochs that fit at the mean epoch time)."""

    def __init__(self, setting, epochs, budget_ms):
        self.f = schedule_fn(setting)
        self.planned = setting.get("epochs") or epochs
        self.budget_ms = budget_ms

    def value(self, epoch, elapsed_ms, timed):
        span = self.planned
        if timed > 0:
            mean = elapsed_ms / timed
            span = min(span, epoch + max(1, math.floor((self.budget_ms - elapsed_ms) / mean)))
        return self.f(min(epoch, span - 1), span)


# ------------------------------------------------------------------------------------ augmentations

def flip(x, y, m, gen, is_x, perm, idx=None):
    """Flip floor(size / 2) random samples (or the samples `idx`) in place."""
    if idx is None:
        count = math.floor(0.5 * x.shape[0] + 1e-9)
        if count == 0:
            return
        idx = torch.randperm(x.shape[0], generator=gen)[:count]
    x[idx] = x[idx].flip(-1)
    ys, ms = y[idx], m[idx]
    ys = torch.where((ms != 0) & is_x, -ys - 1.0 / SCALE, ys)
    y[idx] = ys[:, perm]
    m[idx] = ms[:, perm]


def affine(x, y, m, gen, is_x, params=None):
    """A random similarity transform per sample (or the given (dx, dy, degrees, scale) tensors), in place."""
    b = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=gen)
    dx, dy, degrees, s = params if params is not None else (u(-3.0, 3.0), u(-3.0, 3.0), u(-10.0, 10.0), u(0.95, 1.05))
    theta = degrees * math.pi / 180
    cos, sin = torch.cos(theta), torch.sin(theta)
    # Image, inverse mapping p = C + R(-theta)(q - C - d) / s, in grid units (p - C) / 47.5 (align_corners).
    a = torch.stack([torch.stack([cos, sin], 1), torch.stack([-sin, cos], 1)], 1) / s[:, None, None]
    t = -(a @ torch.stack([dx, dy], 1)[:, :, None]) / CENTRE
    grid = F.affine_grid(torch.cat([a, t], 2), list(x.shape), align_corners=True)
    x.copy_(F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True))
    # Keypoints, forward mapping q = C + s R(theta)(p - C) + d, in pixels; absent ones untouched.
    px = y[:, is_x] * SCALE + SCALE - CENTRE
    py = y[:, ~is_x] * SCALE + SCALE - CENTRE
    qx = CENTRE + s[:, None] * (cos[:, None] * px - sin[:, None] * py) + dx[:, None]
    qy = CENTRE + s[:, None] * (sin[:, None] * px + cos[:, None] * py) + dy[:, None]
    present = (m[:, is_x] != 0) & (m[:, ~is_x] != 0)
    inside = (qx >= FRAME_MIN) & (qx <= FRAME_MAX) & (qy >= FRAME_MIN) & (qy <= FRAME_MAX)
    keep = present & inside
    drop = present & ~inside
    nx_, ny_ = (qx - SCALE) / SCALE, (qy - SCALE) / SCALE
    yx, yy, mx, my = y[:, is_x], y[:, ~is_x], m[:, is_x], m[:, ~is_x]
    y[:, is_x] = torch.where(keep, nx_, torch.where(drop, torch.zeros_like(yx), yx))
    y[:, ~is_x] = torch.where(keep, ny_, torch.where(drop, torch.zeros_like(yy), yy))
    m[:, is_x] = torch.where(drop, torch.zeros_like(mx), mx)
    m[:, ~is_x] = torch.where(drop, torch.zeros_like(my), my)


def photometric(x, gen, params=None):
    """A random contrast and brightness change per sample (or the given (contrast, brightness) tensors), in place."""
    b = x.shape[0]
    c, bright = params if params is not None else (1 + 0.3 * (2 * torch.rand(b, generator=gen) - 1), 0.1 * (2 * torch.rand(b, generator=gen) - 1))
    c, bright = c[:, None, None, None], bright[:, None, None, None]
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x.copy_(((x - mean) * c + mean + bright).clamp(0, 1))


# -------------------------------------------------------------------------------------------- fit

def load(folder, name):
    return torch.from_numpy(np.load(f"{folder}/{name}.npy"))


def blas_libraries():
    with open("/proc/self/maps") as f:
        return sorted({line.split()[-1] for line in f if "blas" in line.split()[-1]})


@torch.no_grad()
def valid_mse(model, x, y, m, batch=256):
    model.eval()
    se, n = 0.0, 0.0
    for i in range(0, x.shape[0], batch):
        p = model(x[i:i + batch])
        mb = m[i:i + batch]
        se += float((((p - y[i:i + batch]) ** 2) * mb).sum())
        n += float(mb.sum())
    return se / max(n, 1.0)


def main():
    with open(sys.argv[1]) as f:
        job = json.load(f)
    cfg, threads = job["config"], job["threads"]
    torch.set_num_threads(threads)
    seed = cfg.get("seed", 42)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)

    folder = job["data"]
    xt = load(folder, "train_images").reshape(-1, 1, SIZE, SIZE)
    yt, mt = load(folder, "train_targets"), load(folder, "train_mask")
    xv = load(folder, "valid_images").reshape(-1, 1, SIZE, SIZE)
    yv, mv = load(folder, "valid_targets"), load(folder, "valid_mask")
    outputs = yt.shape[1]
    is_x = torch.tensor([c.endswith("_x") for c in job["columns"]])
    perm = list(range(outputs))
    for a, b in job["flipPairs"]:
        perm[a], perm[b] = b, a

    model = build_model(cfg, outputs)
    opt = make_optimizer(cfg, model)
    loss = loss_fn(cfg.get("loss", "mse"))
    mse = loss_fn("mse")
    epochs, batch = cfg["epochs"], cfg["batchSize"]
    budget_ms = job["minutes"] * 60_000
    lr_plan = Plan(cfg["learningRateSchedule"], epochs, budget_ms) if cfg.get("learningRateSchedule") else None
    mom_plan = Plan(cfg["momentumSchedule"], epochs, budget_ms) if cfg.get("momentumSchedule") else None
    nesterov = isinstance(opt, torch.optim.SGD)
    blas = blas_libraries()
    tunables = os.environ.get("GLIBC_TUNABLES")
    detail = (f"PyTorch {torch.__version__}, {threads} thread(s), BLAS {', '.join(blas) or 'built in'}"
              + (f", GLIBC_TUNABLES {tunables}" if tunables else "")
              + f", {xt.shape[0]} training / {xv.shape[0]} validation faces")
    print(f"  pytorch {cfg['model']}: {detail}", file=sys.stderr, flush=True)

    best, best_epoch, stop_reason = math.inf, 0, None
    sched_ms, timed = 0.0, 0
    t0 = time.perf_counter()
    mark = t0
    epoch = 0
    while epoch < epochs:
        te = time.perf_counter()
        if lr_plan:
            for g in opt.param_groups:
                g["lr"] = lr_plan.value(epoch, sched_ms, timed)
        if mom_plan and nesterov:
            for g in opt.param_groups:
                g["momentum"] = mom_plan.value(epoch, sched_ms, timed)
        lr = opt.param_groups[0]["lr"]
        momentum = opt.param_groups[0]["momentum"] if nesterov else opt.param_groups[0]["betas"][0]
        model.train()
        order = torch.randperm(xt.shape[0], generator=gen)
        loss_sum, seen = 0.0, 0
        for i in range(0, xt.shape[0], batch):
            idx = order[i:i + batch]
            xb, yb, mb = xt[idx], yt[idx], mt[idx]  # indexing copies
            if cfg.get("flip"):
                flip(xb, yb, mb, gen, is_x, perm)
            if cfg.get("affine"):
                affine(xb, yb, mb, gen, is_x)
            if cfg.get("photometric"):
                photometric(xb, gen)
            opt.zero_grad(set_to_none=True)
            pred = model(xb)
            cost = loss(pred, yb, mb)
            cost.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += float(mse(pred, yb, mb)) * xb.shape[0]
            seen += xb.shape[0]
        train_mse = loss_sum / max(seen, 1)
        valid = math.sqrt(valid_mse(model, xv, yv, mv)) * SCALE
        now = time.perf_counter()
        duration_ms = (now - te) * 1000
        sched_ms += duration_ms
        timed += 1
        if valid < best:
            best, best_epoch = valid, epoch + 1
        epoch_ms, mark = (now - mark) * 1000, now
        elapsed_ms = (now - t0) * 1000
        emit({"epoch": epoch, "durationMs": duration_ms, "trainRmsePx": math.sqrt(train_mse) * SCALE, "validRmsePx": valid,
              "learningRate": lr, "momentum": momentum, "elapsedMs": elapsed_ms})
        epoch += 1
        if not math.isfinite(train_mse):
            stop_reason = f"training loss is {train_mse} at epoch {epoch - 1}"
            break
        left = budget_ms - elapsed_ms
        if not (left > 0 and left >= epoch_ms):
            stop_reason = (f"time budget of {job['minutes']} min spent ({elapsed_ms / 1000:.1f} s, {epoch} epoch{'' if epoch == 1 else 's'}"
                           + (f"; {left / 1000:.1f} s left, less than the last epoch's {epoch_ms / 1000:.1f} s" if left > 0 else "")
                           + ")")
            break
    emit({"done": True, "epochs": epoch, "bestValidRmsePx": best, "bestEpoch": best_epoch,
          "seconds": (time.perf_counter() - t0), "stopReason": stop_reason, "detail": detail})


def check(job):
    """`--check JOB.json`: what the TypeScript tests compare with ours (no training).

    {"mode": "augment", "images" [B][9216], "targets" [B][K], "mask" [B][K], "columns", "flipPairs",
     "flip": [indices], "affine": [[dx, dy, degrees, scale]] * B, "photometric": [[contrast, brightness]] * B}
      -> {"flip" | "affine": {"images", "targets", "mask"}, "photometric": {"images"}}, each from the input batch;
    {"mode": "params", "configs": [TrainConfig, ...], "outputs": K} -> {"trainable": [count, ...]};
    {"mode": "schedule", "config", "minutes", "durations": [ms per epoch]} -> {"learningRate": [...], "momentum": [...]},
      the value each epoch starts with when the epochs before it took those durations.
    """
    if job["mode"] == "schedule":
        cfg, budget_ms = job["config"], job["minutes"] * 60_000
        out = {}
        for key, name in (("learningRateSchedule", "learningRate"), ("momentumSchedule", "momentum")):
            if cfg.get(key):
                plan = Plan(cfg[key], cfg["epochs"], budget_ms)
                out[name] = [plan.value(e, sum(job["durations"][:e]), e) for e in range(len(job["durations"]))]
        print(json.dumps(out))
        return
    if job["mode"] == "params":
        counts = [sum(p.numel() for p in build_model(c, job["outputs"]).parameters()) for c in job["configs"]]
        print(json.dumps({"trainable": counts}))
        return
    t = lambda v: torch.tensor(v, dtype=torch.float32)
    x0 = t(job["images"]).reshape(-1, 1, SIZE, SIZE)
    y0, m0 = t(job["targets"]), t(job["mask"])
    is_x = torch.tensor([c.endswith("_x") for c in job["columns"]])
    perm = list(range(y0.shape[1]))
    for a, b in job["flipPairs"]:
        perm[a], perm[b] = b, a
    out = {}
    batch = lambda: (x0.clone(), y0.clone(), m0.clone())
    as_json = lambda x, y, m: {"images": x.reshape(x.shape[0], -1).tolist(), "targets": y.tolist(), "mask": m.tolist()}
    x, y, m = batch()
    flip(x, y, m, None, is_x, perm, idx=torch.tensor(job["flip"], dtype=torch.long))
    out["flip"] = as_json(x, y, m)
    x, y, m = batch()
    affine(x, y, m, None, is_x, params=tuple(t(job["affine"]).T))
    out["affine"] = as_json(x, y, m)
    x, _, _ = batch()
    photometric(x, None, params=tuple(t(job["photometric"]).T))
    out["photometric"] = {"images": x.reshape(x.shape[0], -1).tolist()}
    print(json.dumps(out))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        with open(sys.argv[2]) as f:
            check(json.load(f))
    else:
        main()
