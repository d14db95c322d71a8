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


MAX_SEEDS = 32
"""Most seeds the page offers (a lever change should stay quick)."""


def check_port(host: str, port: int) -> None:
    """ConfigError unless ``host:port`` can be listened on now."""
    import socket

    from sim.api import ConfigError

    if not 1 <= int(port) <= 65535:
        raise ConfigError(f"--port: must be in 1..65535, got {port}")
    with socket.socket() as s:
        try:
            s.bind((host, int(port)))
        except OSError as err:
            raise ConfigError(f"--port: cannot listen on {host}:{port}: {err.strerror}") from None


def serve(config: str | Path = "configs/baseline.toml", port: int = 8765, seeds: int = 8, jobs: int = 2,
          kommune: str = "Trondheim", lang: str = "en", host: str = "127.0.0.1", ready=None) -> None:
    """Run the explorer at ``http://host:port`` until interrupted (blocks)."""
    from sim import api

    api.load_config(config)  # a bad base scenario fails here, with its one line
    check_assets()
    if not 1 <= int(seeds) <= MAX_SEEDS:
        raise api.ConfigError(f"--seeds: must be in 1..{MAX_SEEDS}, got {seeds}")
    check_port(host, port)
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    # the pool first: with no other thread yet, its workers fork with the base region built
    pool = api.local_pool(jobs, warm=config) if jobs > 1 else None
    from sim.explore import views
    from sim.explore.engine import Engine

    engine = Engine(jobs=jobs, pool=pool)
    try:
        base = engine.base(str(config), seeds)  # the first page load shows a result at once
        names = views.municipalities(base)
        if kommune not in set(names["name"]):
            match = names[names["kommunenummer"] == kommune]["name"]
            if match.empty:
                raise api.ConfigError(f"--kommune: no municipality {kommune!r} in {config} (a name, e.g. Levanger, or a number)")
            kommune = match.iloc[0]
    except BaseException:
        engine.close()
        raise
    import uvicorn

    from sim.explore import app

    app.configure(engine, str(config), seeds, kommune, lang)
    if ready is not None:
        ready()
    os.environ["SOLARA_APP"] = "sim.explore.app"
    try:
        uvicorn.run("solara.server.starlette:app", host=host, port=int(port), log_level="warning", ws_max_size=None)
    finally:
        engine.close()
