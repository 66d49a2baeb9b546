"""The domain of rest stations; import the module or package you need.

``model`` and ``vocabulary`` (the Station and its codes), ``hours`` (opening hours), ``store``
(persistence: every repository and its engine), ``io`` (tabular read/write, import, export,
geocoding), ``search`` (the in-memory catalog and its filters), ``nearest`` (the nearest
answer path), ``features`` (GeoJSON), ``analysis`` (coverage, gaps, plans), ``trust``,
``visits``, ``orgs``, ``feed`` (change feed, snapshots, webhooks), ``tiles``, ``errors``.

Nothing is re-exported here, so importing one module loads only what it needs.
"""

__all__: list[str] = []
