"""Errors for weights and configs that cannot be used."""


class ModelError(Exception):
    """A weights directory, checkpoint or config that cannot be loaded; the message says why."""
