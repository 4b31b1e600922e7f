"""Reference logits from Hugging Face transformers for tiny random models of every supported family.

Run on a machine with torch and transformers (the lent GPU machine has both; no network needed):
    python tools/reference/make-model-fixtures.py OUT_DIR
For each family it writes OUT_DIR/<family>/ with config.json and model.safetensors (fp32, as
save_pretrained writes them), input_ids.json (fixed token ids, batch 2 x 11) and
reference_logits.safetensors holding one F32 tensor "logits" of shape (2, 11, vocab), computed in
fp32 in eval mode. The C# tests load the directory with PretrainedModel.Load and require
max |logits - reference| < 1e-4.
"""
import json
import os
import shutil
import sys

import transformers

import torch
from safetensors.torch import save_file
from transformers import (LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

COMMON = dict(vocab_size=320, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, rms_norm_eps=1e-6, max_position_embeddings=64)

FAMILIES = {
    "llama": (LlamaConfig(**COMMON, rope_theta=500000.0, tie_word_embeddings=False,
                          rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                        "high_freq_factor": 4.0, "original_max_position_embeddings": 16}),
              LlamaForCausalLM),
    # A window shorter than the sequence, so the sliding-window mask is exercised too.
    "mistral": (MistralConfig(**COMMON, rope_theta=10000.0, sliding_window=6, tie_word_embeddings=False), MistralForCausalLM),
    "qwen2": (Qwen2Config(**COMMON, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False), Qwen2ForCausalLM),
    "qwen3": (Qwen3Config(**COMMON, head_dim=24, rope_theta=1000000.0, tie_word_embeddings=True), Qwen3ForCausalLM),
    # Qwen2.5's published configs carry a sliding_window with use_sliding_window false: no window applies.
    "qwen2-window-off": (Qwen2Config(**COMMON, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False,
                                     sliding_window=6), Qwen2ForCausalLM),
    # With use_sliding_window, only the layers from max_window_layers on slide.
    "qwen2-window-layers": (Qwen2Config(**COMMON, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=True,
                                        sliding_window=6, max_window_layers=1), Qwen2ForCausalLM),
    # layer_types names the sliding layers explicitly.
    "qwen3-layer-types": (Qwen3Config(**COMMON, head_dim=24, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=True,
                                      sliding_window=5, layer_types=["sliding_attention", "full_attention"]), Qwen3ForCausalLM),
    # head_dim left to transformers' default (128 for Qwen3, not hidden_size / heads); removed from config.json below.
    "qwen3-default-head-dim": (Qwen3Config(**COMMON, rope_theta=1000000.0, tie_word_embeddings=True), Qwen3ForCausalLM),
}

# Keys removed from the saved config.json, so the reader must supply transformers' default.
DROP_KEYS = {"qwen3-default-head-dim": ["head_dim"]}


def v5_style(config: dict) -> dict:
    """The same config as transformers v5 writes it: rope_theta and rope_scaling inside rope_parameters."""
    config = dict(config)
    params = dict(config.pop("rope_scaling", None) or {"rope_type": "default"})
    params.pop("type", None)
    params.setdefault("rope_type", "default")
    params["rope_theta"] = config.pop("rope_theta", params.get("rope_theta"))
    config["rope_parameters"] = params
    return config


def v4_style(config: dict) -> dict:
    """The same config as transformers v4 writes it: rope_theta and rope_scaling at the top level."""
    config = dict(config)
    params = dict(config.pop("rope_parameters"))
    config["rope_theta"] = params.pop("rope_theta")
    if params.get("rope_type", "default") != "default":
        config["rope_scaling"] = params
    return config


def main(out_dir: str) -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, COMMON["vocab_size"], (2, 11), generator=generator)
    for family, (config, cls) in FAMILIES.items():
        try:
            write_family(out_dir, family, config, cls, input_ids, generator)
        except Exception as e:  # one family a transformers version cannot build must not hide the others
            print(family, "FAILED:", type(e).__name__, e)
    with open(os.path.join(out_dir, "VERSIONS.txt"), "w") as f:
        f.write(f"torch {torch.__version__}\ntransformers {transformers.__version__}\n")


def write_family(out_dir, family, config, cls, input_ids, generator):
    config._attn_implementation = "eager"
    model = cls(config).eval().to(torch.float32)
    with torch.no_grad():
        # Random norm weights and biases too, so no term of the forward can hide.
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.2 + (1.0 if name.endswith("norm.weight") else 0.0))
        logits = model(input_ids).logits.float().contiguous()
    target = os.path.join(out_dir, family)
    if config.model_type == "qwen3" and family == "qwen3-default-head-dim":
        assert config.head_dim == 128, config.head_dim
    model.save_pretrained(target, safe_serialization=True)
    with open(os.path.join(target, "input_ids.json"), "w") as f:
        json.dump(input_ids.tolist(), f)
    save_file({"logits": logits}, os.path.join(target, "reference_logits.safetensors"))
    config_path = os.path.join(target, "config.json")
    with open(config_path) as f:
        saved = json.load(f)
    for key in DROP_KEYS.get(family, []):
        saved.pop(key, None)
    with open(config_path, "w") as f:
        json.dump(saved, f, indent=2)
    print(family, tuple(logits.shape), float(logits.abs().max()), "layer_types:", getattr(config, "layer_types", None))
    if family == "llama":
        # The same weights and logits with the config written in the other transformers generation's layout.
        other = "llama-rope-parameters" if "rope_parameters" not in saved else "llama-rope-top-level"
        shutil.copytree(target, os.path.join(out_dir, other))
        with open(os.path.join(out_dir, other, "config.json"), "w") as f:
            json.dump(v5_style(saved) if "rope_parameters" not in saved else v4_style(saved), f, indent=2)
        print(other, "written from llama")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/MultiTeacher.Tests/Fixtures/models")
