#!/usr/bin/env python3
"""The script mdpipe replaces, for the benchmark only (never a runtime dependency of mdpipe).

Like the original: for every collection, a loop over the configurations reading the six metric files of
each folder with pickle and numpy, then the metrics (numpy means, as SPEC.md defines them) into one grid
per metric, saved with numpy. Absent files give NaN (the original wrote 0; the cost is the same).

    python3 bench/python-baseline.py CONFIG.json OUT_DIR

CONFIG.json is an mdpipe configuration with explicit raw roots, layouts and axes (what the benchmark
writes). Prints one JSON line: configurations read, files read, seconds.
"""
import json
import math
import os
import pickle
import sys
import time

import numpy as np

METRICS = ["test_acc", "test_loss", "train_acc", "train_loss", "generalization_gap", "hessian_e", "hessian_t",
           "CKA", "mode_connectivity", "mode_connectivity_peak", "L2"]


def load_pickle(path):
    try:
        with open(path, "rb") as f:
            return pickle.load(f)
    except FileNotFoundError:
        return None


def load_npz(path):
    try:
        with np.load(path) as z:
            return z["tr_err"]
    except FileNotFoundError:
        return None


def checkpoint_metrics(folder):
    m = dict.fromkeys(METRICS, math.nan)
    test = load_pickle(os.path.join(folder, "loss_acc_test.pkl"))
    if test is not None:
        m["test_acc"] = np.mean([test[s]["accuracy"] for s in test])
        m["test_loss"] = np.mean([test[s]["loss"] for s in test])
    train = load_pickle(os.path.join(folder, "loss_acc.pkl"))
    if train is not None:
        m["train_acc"] = np.mean([train[s]["accuracy"] for s in train])
        m["train_loss"] = np.mean([train[s]["loss"] for s in train])
    m["generalization_gap"] = m["train_acc"] - m["test_acc"]
    hessian = load_pickle(os.path.join(folder, "hessian.pkl"))
    if hessian is not None:
        m["hessian_e"] = np.log(np.mean([hessian[s]["top_eigenvalue"][0] for s in hessian]))
        m["hessian_t"] = np.log(np.mean([hessian[s]["trace"] for s in hessian]))
    cka = load_pickle(os.path.join(folder, "CKA_mixup_alpha_16.0.pkl"))
    if cka is not None:
        sim = cka["representation_similarity"]
        values = [sim[a][b][-1] for a in sim for b in sim[a] if a != b and not np.isnan(sim[a][b][-1])]
        m["CKA"] = np.mean(np.array(values, dtype=np.float32)) if values else math.nan
    curve = load_npz(os.path.join(folder, "curve_test.npz"))
    if curve is not None:
        mid = (curve[0] + curve[4]) / 2
        u = int(np.argmax(np.abs(curve - mid)))
        m["mode_connectivity"] = mid - curve[u]
        m["mode_connectivity_peak"] = -np.max(curve[1:4])
    dist = load_pickle(os.path.join(folder, "model_dist.pkl"))
    if dist is not None:
        d = dist["model_distance"]
        m["L2"] = np.mean([d[a][b]["dist"] for a in d for b in d[a] if a != b])
    return m


def main():
    config_file, out_dir = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    with open(config_file) as f:
        config = json.load(f)
    base = os.path.dirname(os.path.abspath(config_file))
    configurations = 0
    files = 0
    os.makedirs(out_dir, exist_ok=True)
    for name, c in config["collections"].items():
        root = os.path.join(base, c["raw"])
        axes = c["axes"]
        # Read every folder first, as the original did, then compute the grid.
        results = {}
        for data in axes["data"]:
            for bs in axes["bs"]:
                for width in axes["width"]:
                    folder = os.path.join(root, c["layout"].format(data=data, bs=bs, width=width))
                    results[(bs, width, data)] = checkpoint_metrics(folder)
                    configurations += 1
                    files += sum(1 for f in os.listdir(folder)) if os.path.isdir(folder) else 0
        shape = (len(axes["bs"]), len(axes["width"]), len(axes["data"]))
        grid = {metric: np.full(shape, np.nan) for metric in METRICS}
        for i, bs in enumerate(axes["bs"]):
            for j, width in enumerate(axes["width"]):
                for k, data in enumerate(axes["data"]):
                    for metric, value in results[(bs, width, data)].items():
                        grid[metric][i, j, k] = value
        grid.update(temp=np.array(axes["bs"]), width=np.array(axes["width"]), data=np.array(axes["data"]))
        np.save(os.path.join(out_dir, f"metric_grid_{name}.npy"), grid, allow_pickle=True)
    print(json.dumps({"configurations": configurations, "files": files, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
