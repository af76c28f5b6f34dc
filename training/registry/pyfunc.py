"""The pyfunc MLflow loads for the escalation model, declared by the models-from-code file.

``training/model_code/escalation.py`` is the file MLflow executes when a logged model is
loaded; it only calls ``declare_model_code()``, so the MLflow class and ``set_model`` live
here, in the one module that talks to MLflow. ``mlflow.pyfunc.load_model(...).predict`` and
``mlflow models serve`` then run the same feature path, booster, calibration and thresholds
as the BentoML service.
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


def declare_model_code() -> None:
    """Hand MLflow the model object of a models-from-code file (``mlflow.models.set_model``)."""
    mlflow.models.set_model(TipEscalationPyfunc())
