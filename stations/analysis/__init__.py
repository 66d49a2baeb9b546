"""Coverage, gaps and site planning over the catalog, and the reports written from them."""
