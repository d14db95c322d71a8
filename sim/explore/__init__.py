"""The explorer: ``onerecord explore`` serves a local web page (Solara) to move the levers and see
who joins, what is left of the gain and what a municipality pays, each against the base scenario
under the same seeds. It calls :mod:`sim.api` only; ``pip install -e ".[explore]"`` brings Solara.

Modules: :mod:`~sim.explore.levers` (which keys, ranges, the command a setting is),
:mod:`~sim.explore.views` (tables and figures), :mod:`~sim.explore.engine` (runs, pool, caches),
:mod:`~sim.explore.app` (the page), :mod:`~sim.explore.server` (offline Solara server).
"""
