"""Rolling-origin backtests: how the model would have done, period after period.

``folds`` cuts a history into periods (pure); ``fit`` trains and scores one fold;
``report`` turns pooled out-of-time predictions into per-period figures and a report;
``job`` runs it all (local or Dask) and logs one MLflow parent run with a child per fold.
"""
