"""The data scientist's workbench: an entry point for notebooks (see :mod:`workbench.workbench`)."""

from workbench.workbench import TrainingSet, Variant, Workbench

__all__ = ["TrainingSet", "Variant", "Workbench"]
