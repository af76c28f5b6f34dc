"""Where ``EscalationModel`` lived before the restructure (issue 15): kept for old models.

Every model logged before then carries a models-from-code file that does
``from training.runtime import EscalationModel``; MLflow runs that file against the
installed ``training`` package, so without this name those registered versions (a
deployment's current champion among them) could no longer be loaded. New code imports
``training.model``.
"""

from training.model import EscalationModel

__all__ = ["EscalationModel"]
