"""Shared test set-up. `import models` first so the optimised BLAS is loaded before any test
module imports mlx.core (otherwise the whole run falls back to MLX's slow reference BLAS)."""

import models  # noqa: F401
