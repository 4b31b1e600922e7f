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
import sys

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
}


def main(out_dir: str) -> None:
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, COMMON["vocab_size"], (2, 11), generator=generator)
    for family, (config, cls) in FAMILIES.items():
        config._attn_implementation = "eager"
        model = cls(config).eval().to(torch.float32)
        with torch.no_grad():
            # Random norm weights and biases too, so no term of the forward can hide.
            for name, p in model.named_parameters():
                p.copy_(torch.randn(p.shape, generator=generator) * 0.2 + (1.0 if name.endswith("norm.weight") else 0.0))
            logits = model(input_ids).logits.float().contiguous()
        target = os.path.join(out_dir, family)
        model.save_pretrained(target, safe_serialization=True)
        with open(os.path.join(target, "input_ids.json"), "w") as f:
            json.dump(input_ids.tolist(), f)
        save_file({"logits": logits}, os.path.join(target, "reference_logits.safetensors"))
        print(family, tuple(logits.shape), float(logits.abs().max()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/MultiTeacher.Tests/Fixtures/models")
