"""Planning before running: how much GPU memory a model needs, from its config.json alone.

- `model_shape`: a model's shape read from config.json, and its exact parameter count;
- `memory`: the memory of each component (weights, gradients, optimizer states,
  activations, KV cache) for inference, full fine-tuning, LoRA and QLoRA, per GPU;
- `verdict`: whether the plan fits, and the smallest change that makes it fit.
"""
