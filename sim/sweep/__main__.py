"""``python -m sim.sweep EXPERIMENT [options]``: run, resume or merge a sweep from a shell (or a batch job).

The ``onerecord sweep`` command is the documented entry; this one also takes ``--evaluator
module:function`` (a stand-in for the model, as in the tests).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.config import ConfigError


def _evaluator(spec: str | None):
    if spec is None:
        return None
    module, _, attr = spec.partition(":")
    if not attr:
        raise ConfigError(f"--evaluator {spec}: expected module:function")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"--evaluator {spec}: {err}") from None


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the sweep (or merge shards) and print the sweep folder."""
    from sim.parallel import EXECUTORS
    from sim.sweep import load_experiment, merge_shards, run_sweep, sweep_path

    ap = argparse.ArgumentParser(prog="python -m sim.sweep", description=__doc__.splitlines()[0])
    ap.add_argument("experiment")
    ap.add_argument("--out", default="results")
    ap.add_argument("--executor", default="local", choices=EXECUTORS)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--shard", default=None, help="I/N, I from 0 to N-1")
    ap.add_argument("--merge", action="store_true", help="join the shards' chunk files")
    ap.add_argument("--retry-failed", action="store_true")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--evaluator", default=None, help="module:function instead of the model")
    args = ap.parse_args(argv)
    try:
        exp = load_experiment(args.experiment)
        if args.merge:
            path = merge_shards(sweep_path(args.out, exp.name))
        else:
            path = run_sweep(exp, args.out, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                             shard=args.shard, retry_failed=args.retry_failed, progress=not args.quiet,
                             evaluate=_evaluator(args.evaluator))
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
