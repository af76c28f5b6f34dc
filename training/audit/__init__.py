"""The bias audit: groups, per-group metrics, disparities, the job and its report."""
