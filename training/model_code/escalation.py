"""MLflow models-from-code entry point for the escalation model (not an importable module).

MLflow executes this file when the logged model is loaded; it wraps ``EscalationModel`` so
``mlflow.pyfunc.load_model(...).predict(frame)`` and ``mlflow models serve`` run the same
feature path, booster, calibration and thresholds as the BentoML service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from training.model import EscalationModel


class TipEscalationPyfunc(PythonModel):
    """Flat report columns with linkage features in; probability and priority out."""

    model: EscalationModel

    def load_context(self, context: PythonModelContext) -> None:
        """Load the booster, calibration and policy from the logged artifacts."""
        self.model = EscalationModel.load(Path(context.artifacts["model_dir"]))

    def predict(
        self,
        context: PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Score flat rows."""
        return self.model.predict(model_input)


mlflow.models.set_model(TipEscalationPyfunc())
