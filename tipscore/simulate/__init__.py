"""``tipscore simulate``: months of operation, end to end (issue 23).

A champion trained on a history's first months; then, day by day, the next months'
reports go to a real service over HTTP, simulated analysts work its queue, and each month
ends with an export, a retrained and audited candidate, a shadow week and the gates.

- ``config``: the simulation's TOML config (analysts, service, retraining), validated;
- ``analysts``: the analyst model (capacity, noise, automation bias, blind review);
- ``submissions``: history rows as the JSON an intake system sends;
- ``service``: the real ``bentoml serve`` on a free port and its HTTP client;
- ``month``: one simulated month, day by day; ``steps``: the month-end steps;
- ``metrics``, ``report``: what each month measured, as JSON, a table, plots, MLflow;
- ``loop``: the request and the state between steps; ``run``: the whole loop.

Why in ``tipscore/``: the loop composes training (train, audit, promote) and serving (the
service, the state store's export), which may not import each other.
"""
