"""MLflow models-from-code entry point for the escalation model (not an importable module).

MLflow executes this file when the logged model is loaded; the pyfunc it declares wraps
``EscalationModel`` (see ``training.registry.pyfunc``), so ``mlflow.pyfunc.load_model``
and ``mlflow models serve`` run the same scoring path as the BentoML service.
"""

from __future__ import annotations

from training.registry import declare_model_code

declare_model_code()
