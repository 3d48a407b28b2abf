"""MLX implementation of the Hierarchical Reasoning Model (HRM) with ACT.

No Textual, no puzzle knowledge. The optimised BLAS must be loaded before `mlx.core` is
imported anywhere, so importing any `models` module does it first.
"""

from models.backend import ensure_fast_blas

ensure_fast_blas()
