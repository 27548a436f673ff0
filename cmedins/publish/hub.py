"""Push a published folder to the Hugging Face Hub: one `upload_folder` commit, then a version tag.

The folder is verified against its manifest first (every file's sha256), so a damaged or half-copied folder is
never pushed. One commit replaces the whole version: `delete_patterns` removes remote shards the new version does
not have (a version with fewer shards must not leave old shards that the card's `data/<config>/<split>-*` globs
would still load). The token comes from huggingface_hub's usual places (`HF_TOKEN`, the login cache); this module
never reads, prints or logs it, and errors are reported by type and HTTP status only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANAGED = ["data/**", "plots/**", "README.md", "manifest.json", "dataset_info.json"]


class PushError(RuntimeError):
    """The folder cannot be pushed as it is, or the Hub refused; one line, no token."""


@dataclass
class PushPlan:
    """What a push uploads and where: the dry run prints it, the real push carries it out."""

    folder: Path
    repo_id: str
    revision: str | None
    tag: str
    private: bool
    files: list[tuple[str, int]] = field(default_factory=list)  # relative path, bytes
    version: str = ""

    def lines(self) -> list[str]:
        total = sum(n for _, n in self.files)
        head = [f"repo: {self.repo_id} (dataset{', private' if self.private else ''}), "
                f"revision: {self.revision or 'main'}, tag: {self.tag}, version {self.version}",
                f"{len(self.files)} files, {total / 1e6:.1f} MB; remote files matching {', '.join(MANAGED)} that "
                "are not listed here are deleted in the same commit"]
        return head + [f"  {n:>12,}  {p}" for p, n in self.files]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(folder: Path) -> dict[str, Any]:
    """The folder's manifest, after checking that every file it lists is there with its sha256 and that no data
    file is missing from it. Raises PushError naming the first problem."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise PushError(f"{folder}: no readable manifest.json (is this a published dataset folder?)") from None
    listed = manifest.get("files", {})
    for rel, meta in sorted(listed.items()):
        path = folder / rel
        if not path.is_file():
            raise PushError(f"{folder}: {rel} is listed in manifest.json but missing")
        if _sha256(path) != meta.get("sha256"):
            raise PushError(f"{folder}: {rel} does not match its sha256 in manifest.json")
    for path in sorted((folder / "data").rglob("*.parquet")):
        rel = path.relative_to(folder).as_posix()
        if rel not in listed:
            raise PushError(f"{folder}: {rel} is not in manifest.json (a file from another version?)")
    return manifest


def plan(folder: Path, repo_id: str, *, revision: str | None = None, tag: str | None = None,
         private: bool = False) -> PushPlan:
    """Verify the folder and list what a push would upload."""
    manifest = verify(folder)
    version = str(manifest.get("version", ""))
    files = sorted((p.relative_to(folder).as_posix(), p.stat().st_size) for p in folder.rglob("*") if p.is_file())
    return PushPlan(folder=folder, repo_id=repo_id, revision=revision, tag=tag or f"v{version}", private=private,
                    files=files, version=version)


def push(p: PushPlan, api: Any = None) -> str:
    """Create the repo if needed, upload the folder as one commit, tag it; returns the commit id.

    `api` is an `huggingface_hub.HfApi` (tests pass a stand-in: this is the one seam to the network).
    """
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    try:
        api.create_repo(repo_id=p.repo_id, repo_type="dataset", private=p.private, exist_ok=True)
        if p.revision and p.revision != "main":
            api.create_branch(repo_id=p.repo_id, repo_type="dataset", branch=p.revision, exist_ok=True)
        refs = api.list_repo_refs(repo_id=p.repo_id, repo_type="dataset")
        if any(t.name == p.tag for t in getattr(refs, "tags", [])):
            raise PushError(f"push to {p.repo_id} refused: tag {p.tag} already exists (bump the version)")
        info = api.upload_folder(folder_path=str(p.folder), repo_id=p.repo_id, repo_type="dataset",
                                 revision=p.revision, commit_message=f"CMedINS {p.version}",
                                 commit_description=f"Dataset version {p.version}, pushed by cmedins.publish",
                                 delete_patterns=MANAGED)
        commit = getattr(info, "oid", None) or str(info)
        api.create_tag(repo_id=p.repo_id, repo_type="dataset", tag=p.tag, revision=commit,
                       tag_message=f"CMedINS {p.version}")
    except PushError:
        raise
    except Exception as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        hint = {401: "not logged in (set HF_TOKEN or run `hf auth login`)", 403: "no write access",
                409: f"tag {p.tag} already exists: bump the version", 404: "repository or revision not found"}
        reason = hint.get(status, f"{type(exc).__name__}{f' (HTTP {status})' if status else ''}")
        raise PushError(f"push to {p.repo_id} failed: {reason}") from None
    return commit
