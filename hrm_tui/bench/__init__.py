"""`hrm bench`: performance figures of the MLX model, side by side with the same model and
training step in PyTorch, measured in one run on one machine.

`runner` plans the measurements and runs each in a fresh subprocess (`worker`), so every figure
has its own peak RSS and no measurement warms or pollutes another; `workloads` holds the MLX
measurements, `torch_reference` the PyTorch model (imported only when torch is installed),
`flops` the analytic FLOP count and `report` the JSON, markdown and terminal tables.
"""
