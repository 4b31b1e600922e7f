"""Checks `mt merge` outputs against a separate torch implementation of the merge methods and loads them with transformers.

Run on a machine with torch and transformers:
    python tools/reference/check-merges.py INPUT_A INPUT_B MERGED_DIR_PARENT
INPUT_A is the base / first model, INPUT_B the second; MERGED_DIR_PARENT holds out-linear (0.3 A + 0.7 B),
out-ties (base A, B with weight 1 and density 0.5) and out-slerp (per-layer t as in the configs of the
merge tests). Prints the largest difference per method and whether transformers loads and runs each.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def slerp(t, a, b, eps=1e-8):
    a32, b32 = a.double(), b.double()
    na, nb = a32 / (a32.norm() + eps), b32 / (b32.norm() + eps)
    dot = float((na * nb).sum())
    if abs(dot) > 0.9995:
        return ((1 - t) * a32 + t * b32).float()
    theta0 = math.acos(dot)
    s0 = math.sin((1 - t) * theta0) / math.sin(theta0)
    s1 = math.sin(t * theta0) / math.sin(theta0)
    return (s0 * a32 + s1 * b32).float()


def slerp_t(name):
    layer = int(name.split(".")[2]) if name.startswith("model.layers.") else None
    if "self_attn" in name:
        return [0.0, 0.5][layer]
    if "mlp" in name:
        return [1.0, 0.5][layer]
    return 0.25


def ties_one(base, model, density):
    delta = (model - base).flatten()
    k = int(density * delta.numel())
    keep = torch.zeros_like(delta)
    if k > 0:
        idx = delta.abs().topk(k).indices
        keep[idx] = delta[idx]
    return base + keep.view_as(base)


def main(a_dir, b_dir, merged_root):
    a, b = load_file(os.path.join(a_dir, "model.safetensors")), load_file(os.path.join(b_dir, "model.safetensors"))
    expected = {
        "linear": {n: 0.3 * a[n] + 0.7 * b[n] for n in a},
        "ties": {n: ties_one(a[n], b[n], 0.5) for n in a},
        "slerp": {n: slerp(slerp_t(n), a[n], b[n]) for n in a},
    }
    ids = torch.tensor(json.load(open(os.path.join(a_dir, "input_ids.json"))))
    report = {}
    for method, want in expected.items():
        out = os.path.join(merged_root, f"out-{method}")
        got = load_file(os.path.join(out, "model.safetensors"))
        diffs = {n: float((got[n].float() - want[n].float()).abs().max()) for n in want if n in got}
        missing = sorted(set(want) - set(got))
        worst = max(diffs, key=diffs.get)
        model = AutoModelForCausalLM.from_pretrained(out, torch_dtype=torch.float32).eval()
        with torch.no_grad():
            logits = model(ids).logits
        report[method] = {"max_abs_diff": diffs[worst], "worst_tensor": worst, "missing": missing,
                          "transformers_loads": True, "logits_finite": bool(torch.isfinite(logits).all())}
        print(method, report[method])
    return report


if __name__ == "__main__":
    result = main(*sys.argv[1:4])
    if len(sys.argv) > 4:
        json.dump(result, open(sys.argv[4], "w"), indent=2)
