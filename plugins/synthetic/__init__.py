"""The built-in sample distribution: ``mk2ds sample DIR`` writes it, ``mk2ds demo`` writes and verifies it.

Feature package ``synthetic`` (plugin ``synthetic``: ``mk2ds_add_commands`` for ``mk2ds sample`` and
``mk2ds demo``). Libraries: ``distribution`` (the samples and files of the distribution: :func:`write_sample`,
re-exported here and imported on first use, so that loading the plugin stays cheap); ``generator`` (realistic
Mark II logs, with its ground truth in ``truth``) with ``world`` (processes, events; ``host``: the host and the
value syntax, ``binaries``: well-known executables), ``background`` (the office background:
``background_base``, ``background_desktop``, ``background_sessions``, ``background_system``) and ``scenarios``
(the malware runs: ``story``, ``scenarios_droppers``, ``scenarios_destructive``, ``scenarios_lateral``);
``pe_builder`` (harmless valid PE files; ``pe_signature``: their Authenticode-shaped blob), ``artifacts`` and
``texts`` (the other files of the distribution).
Nothing here is used to read real data.

The distribution has the layout of the Soliton Dataset 2018 (the ``soliton-2018`` profile) and is small
(about 2 MB with the default six samples) but realistic: a WannaCry-like, an Olympic-Destroyer-like, a
script (non-PE) sample and benign-ish droppers, each with its 30-minute log from the log generator
(:mod:`mk2ds.plugins.synthetic.generator`), Verbose logs and analysis reports where List.xlsx flags them,
impfuzzy and pefile results of the harmless PE files built here (kept zipped with the password ``infected``
in ``samples/`` so that recomputation can be tried), Sysinfo files in CP932 (one sample's empty, as if the
malware blocked their collection), multi-host logs for the special runs, and a ``SHA256SUMS`` manifest.

Same seed, same bytes: every file is reproducible. Tests derive their bad datasets from it with
:func:`write_sample` and one mutation each.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mk2ds.core import CommandRegistry, UsageError, hookimpl
from mk2ds.core.verify_context import LEVELS

if TYPE_CHECKING:
    import pluggy

    from mk2ds.plugins.synthetic.distribution import SampleDistribution, SampleSpec, plan_samples, write_sample

__all__ = ["MINIMUM_SAMPLES", "SampleDistribution", "SampleSpec", "plan_samples", "write_sample"]

#: Declared here for the commands' options; the library (``distribution``) takes them from here.
MINIMUM_SAMPLES = 3
DEFAULT_EVENTS = 300

#: Public names of the library, imported on first use: every built-in plugin is imported at start-up, and the
#: generator with its artifacts is needed only when a distribution is written.
_LAZY_NAMES = frozenset({"SampleDistribution", "SampleSpec", "plan_samples", "write_sample"})


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        from mk2ds.plugins.synthetic import distribution

        return getattr(distribution, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ------------------------------------------------------------------------------------------------------------
# Commands
# ------------------------------------------------------------------------------------------------------------


@hookimpl
def mk2ds_add_commands(subparsers: CommandRegistry, pm: pluggy.PluginManager) -> None:
    from mk2ds.core import registry

    sample = subparsers.add_parser(
        "sample", help="write the built-in sample distribution (Soliton-2018 layout, synthetic) into DIR"
    )
    sample.add_argument("directory", metavar="DIR", help="a new or empty folder")
    sample.add_argument(
        "--samples", type=int, default=6, metavar="N", help=f"number of samples (at least {MINIMUM_SAMPLES}; default 6)"
    )
    sample.add_argument("--seed", type=int, default=0, help="seed: same seed, same bytes (default 0)")
    sample.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        metavar="N",
        help=f"about N lines per 30-minute log (default {DEFAULT_EVENTS})",
    )
    sample.set_defaults(handler=_cmd_sample)

    demo = subparsers.add_parser(
        "demo",
        help="write the sample distribution into a temporary folder and verify it",
        description="Writes the built-in sample distribution into a temporary folder and verifies it exactly as "
        "`mk2ds verify FOLDER --samples FOLDER/samples` would (another --samples DIR may be given). "
        "The exit code is verify's.",
    )
    demo.add_argument("--seed", type=int, default=0, help="seed of the sample distribution (default 0)")
    demo.add_argument("--keep", action="store_true", help="keep the folder and print its path")
    demo.add_argument("--format", default="text", choices=sorted(registry.outputs(pm, "report")), help="report format")
    demo.add_argument("--level", choices=LEVELS, default="full", help="how thorough (default: full)")
    demo.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (0 = one per core)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    group = demo.add_argument_group("plugin options (as for verify)")
    pm.hook.mk2ds_add_verify_options(group=group)
    for output in registry.outputs(pm, "report").values():
        output.add_options(demo)
    demo.set_defaults(handler=_cmd_demo)


def _cmd_sample(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    from mk2ds.plugins.synthetic.distribution import write_sample  # the generator loads when a command runs

    try:
        written = write_sample(args.directory, samples=args.samples, seed=args.seed, events_per_log=args.events)
    except (FileExistsError, ValueError) as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # a folder that cannot be made or written, a full disk
        raise UsageError(f"cannot write {error.filename or args.directory}: {error.strerror or error}") from None
    total = sum(written.files.values())
    print(f"wrote {len(written.files)} files ({total / 1e6:.1f} MB), {len(written.samples)} samples, to {written.root}")
    return 0


def _cmd_demo(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    from mk2ds.core import emit_report, plugin_settings, registry, tool_description
    from mk2ds.core.findings import Severity
    from mk2ds.core.walker import default_jobs, verify
    from mk2ds.plugins.synthetic.distribution import write_sample

    folder = Path(tempfile.mkdtemp(prefix="mk2ds-demo-"))
    try:
        root = folder / "SolitonDataset2018-sample"
        write_sample(root, seed=args.seed)
        if getattr(args, "samples", None) is None:
            args.samples = str(root / "samples")  # the PE plugin's --samples: recompute impfuzzy/PEfile
        print(
            f"mk2ds demo: wrote a sample distribution to {root}; verifying it as `mk2ds verify {root} --samples {args.samples}`",
            file=sys.stderr,
        )
        report = verify(
            str(root),
            pm,
            registry.find_profile(pm, "soliton-2018"),
            level=args.level,
            options=args,
            jobs=default_jobs() if args.jobs == 0 else max(1, args.jobs),
            settings=plugin_settings(pm),
            fail_on=Severity.ERROR,
            show_progress=False if args.quiet else None,
            tool=tool_description(pm),
        )
        code = int(emit_report(pm, report, args))
    finally:
        if args.keep:
            print(f"mk2ds demo: kept {folder / 'SolitonDataset2018-sample'}", file=sys.stderr)
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return code
