"""Training and batch scoring on a Dask cluster over a partitioned history."""
