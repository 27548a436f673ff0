"""`cmedins COMMAND ...`: one entry point for the build and the per-stage tools.

Each command is the `main(argv)` of the module that `python -m` runs, imported only when asked for, so
`cmedins tasks sample` does not load the de-identifier.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("cmedins.build", "run a recipe (the embedded default when none is given)"),
    "deid": ("cmedins.deid.cli", "de-identify a file of {id, text} rows"),
    "synth": ("cmedins.synth.__main__", "generate a synthetic hospital corpus, or `show` a few records"),
    "tasks": ("cmedins.tasks.__main__", "`sample` or `report` the instruction rows of a build"),
    "clean": ("cmedins.clean.cli", "`dedup` any JSONL/Parquet file: exact and near duplicates, removed rows named"),
    "publish": ("cmedins.publish.__main__", "push a published dataset to the Hub, or `diff` two versions"),
    "preference": ("cmedins.preference.__main__", "preference set: model candidates, annotator agreement, "
                   "adjudication queue"),
}


def usage() -> str:
    lines = ["usage: cmedins COMMAND [options]   (cmedins COMMAND --help for a command's options)", "", "commands:"]
    lines += [f"  {name:<10} {what}" for name, (_, what) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(f"cmedins: unknown command {argv[0]!r}; one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
