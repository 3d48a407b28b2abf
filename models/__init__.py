"""MLX implementation of the Hierarchical Reasoning Model (HRM) with ACT.

No Textual, no puzzle knowledge. Import `models.backend` first (done here) so the
optimised BLAS is loaded before `mlx.core`.
"""
