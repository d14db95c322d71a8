"""Start the explorer: a local, offline Solara server on 127.0.0.1.

Offline by construction: Solara serves its front end (Vue/Vuetify app, fonts, RequireJS) from a
cache folder that the ``solara-assets`` package fills, *of the same version* (``pyproject.toml``
pins the pair: solara-assets is published less often than solara). Its assets proxy fetches a
file from a CDN only on a cache miss, so the CDN is set to a dead loopback address: a miss is an
error in the log, never a download. Telemetry (Mixpanel) and the version check (an iframe to
solara.dev, shown outside production mode) are off.
"""

from __future__ import annotations

import os
from pathlib import Path

OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_PROXY": "True",
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/no-cdn-offline/",
    "SOLARA_MAIN_MODE": "production",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_THEME_TITLE": "onerecord explorer",
}
"""Solara settings (read from the environment when solara is first imported)."""


def check_assets() -> None:
    """Raise ConfigError unless solara and solara-assets of the same version are installed."""
    from importlib.metadata import PackageNotFoundError, version

    from sim.api import ConfigError

    try:
        ui, assets = version("solara-ui"), version("solara-assets")
    except PackageNotFoundError as err:
        raise ConfigError(f"explore: {err.name} is not installed; pip install -e \".[explore]\"") from None
    if ui != assets:
        raise ConfigError(f"explore: solara {ui} needs solara-assets {ui} to run offline, found {assets}; "
                          "pip install -e \".[explore]\"")


def serve(config: str | Path = "configs/baseline.toml", port: int = 8765, seeds: int = 8, jobs: int = 2,
          kommune: str = "Trondheim", lang: str = "en", host: str = "127.0.0.1") -> None:
    """Run the explorer at ``http://host:port`` until interrupted (blocks)."""
    from sim import api

    check_assets()
    api.load_config(config)  # a bad base scenario fails here, with its one line
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    # the pool first: with no other thread yet, its workers fork with the base region built
    pool = api.local_pool(jobs, warm=config) if jobs > 1 else None
    from sim.explore.engine import Engine

    engine = Engine(jobs=jobs, pool=pool)
    engine.base(str(config), seeds)  # the first page load shows a result at once
    import uvicorn

    from sim.explore import app

    app.configure(engine, str(config), seeds, kommune, lang)
    os.environ["SOLARA_APP"] = "sim.explore.app"
    try:
        uvicorn.run("solara.server.starlette:app", host=host, port=int(port), log_level="warning", ws_max_size=None)
    finally:
        engine.close()
