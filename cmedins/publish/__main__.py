"""`python -m cmedins.publish`: push a published dataset folder to the Hugging Face Hub, or diff two versions.

  python -m cmedins.publish [FOLDER] --repo-id ORG/NAME [--revision BRANCH] [--tag vX.Y.Z] [--private] [--dry-run]
  python -m cmedins.publish diff OLD NEW [--json]      (each a folder or a Hub revision ORG/NAME[@REV])
  python -m cmedins.publish verify [FOLDER]             (every file against manifest.json)

FOLDER defaults to ./cmedins-build/dataset, what `python -m cmedins.build` publishes. Exit codes: 0 done, 2 an error
the operator can fix (one line: a damaged folder, a refused push, an unknown revision).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_FOLDER = "cmedins-build/dataset"


def _push_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m cmedins.publish",
        description="Push a published dataset folder to the Hugging Face Hub as one commit and tag its version. "
                    "The token comes from HF_TOKEN or `hf auth login`; it is never printed.",
        epilog="Other commands: `diff OLD NEW` (what changed between two versions), `verify [FOLDER]`.")
    p.add_argument("folder", nargs="?", default=DEFAULT_FOLDER, help=f"dataset folder (default: {DEFAULT_FOLDER})")
    p.add_argument("--repo-id", required=True, help="Hub dataset repository, ORG/NAME")
    p.add_argument("--revision", help="branch to push to (default: main)")
    p.add_argument("--tag", help="tag for this version (default: v<version from manifest.json>)")
    p.add_argument("--private", action="store_true", help="create the repository as private if it does not exist")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded, and where; send nothing")
    return p


def _diff_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cmedins.publish diff",
                                description="Rows added / removed / changed per config and split (by row id), share "
                                            "shifts and schema changes between two dataset versions.")
    p.add_argument("old", help="the older version: a folder, or a Hub revision ORG/NAME[@REVISION]")
    p.add_argument("new", help="the newer version: a folder, or a Hub revision ORG/NAME[@REVISION]")
    p.add_argument("--json", action="store_true", help="print the differences as JSON")
    return p


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    from cmedins.publish import hub
    from cmedins.publish.diff import DiffError, diff_versions, load_version, render, resolve

    if argv and argv[0] == "diff":
        args = _diff_parser().parse_args(argv[1:])
        try:
            old = load_version(resolve(args.old), args.old)
            new = load_version(resolve(args.new), args.new)
            d = diff_versions(old, new)
        except DiffError as exc:
            return _error(str(exc))
        print(json.dumps(d, indent=2, ensure_ascii=False) if args.json else render(d), end="" if not args.json
              else "\n")
        return 0
    if argv and argv[0] == "verify":
        folder = Path(argv[1] if len(argv) > 1 else DEFAULT_FOLDER)
        try:
            manifest = hub.verify(folder)
        except hub.PushError as exc:
            return _error(str(exc))
        n = len(manifest.get("files", {}))
        print(f"{folder}: version {manifest.get('version')}, {n} files match manifest.json")
        return 0
    if argv and argv[0] == "push":
        argv = argv[1:]
    args = _push_parser().parse_args(argv)
    try:
        plan = hub.plan(Path(args.folder), args.repo_id, revision=args.revision, tag=args.tag, private=args.private)
    except hub.PushError as exc:
        return _error(str(exc))
    if args.dry_run:
        print("dry run: nothing is sent")
        print("\n".join(plan.lines()))
        return 0
    try:
        commit = hub.push(plan)
    except hub.PushError as exc:
        return _error(str(exc))
    print(f"pushed {args.folder} to {args.repo_id} ({plan.revision or 'main'}), commit {commit[:12]}, tag {plan.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
