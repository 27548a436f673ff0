"""The package as a user gets it: a wheel that builds from any folder, one console script, lazy stage imports,
registries that refuse clashes, and cache keys that see plugin code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from conftest import REPO, write_recipe

from cmedins.registry import Registry, RegistryError
from cmedins.stage import check_chain, get_stage, register_stage
from cmedins.stages import BUILTIN_STAGES


def test_top_level_schemas_and_recipe_are_the_package_copies() -> None:
    """`schemas/` and `pipelines/` are what people read; the package's copies are what the code reads."""
    pairs = [(REPO / "schemas", REPO / "cmedins" / "schemas"), (REPO / "pipelines", REPO / "cmedins" / "pipelines")]
    for top, packaged in pairs:
        names = sorted(p.name for p in top.glob("*.yaml"))
        assert names == sorted(p.name for p in packaged.glob("*.yaml")) and names
        for name in names:
            assert (top / name).read_bytes() == (packaged / name).read_bytes(), (
                f"{top.name}/{name} differs from cmedins/{packaged.name}/{name}: edit cmedins/{packaged.name}/{name} "
                f"and copy it to {top.name}/")


def test_wheel_installs_and_builds_the_default_recipe_from_an_empty_folder(tmp_path: Path) -> None:
    """Build a wheel, install it into a fresh venv (dependencies borrowed from this venv through a .pth file, which
    does not run this venv's editable hook) and run the console script and `python -m cmedins.build` elsewhere."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)],
                   check=True, capture_output=True)
    (wheel,) = wheels.glob("cmedins-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True)
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "deps-from-test-venv.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run([str(py), "-c", "import cmedins; print(cmedins.__file__)"], cwd=empty, env=env,
                           check=True, capture_output=True, text=True).stdout.strip()
    assert where.startswith(site), where  # the installed wheel, not the checkout
    res = subprocess.run([str(venv / "bin" / "cmedins"), "build", "--records", "200", "--out", "out", "--quiet"],
                         cwd=empty, env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    report = json.loads((empty / "out" / "report" / "build_report.json").read_text())
    assert report["accounting"]["ok"] and report["accounting"]["records_read"] == 200
    recipe = yaml.safe_load((REPO / "cmedins" / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    expected = ["ingest", *(st if isinstance(st, str) else next(iter(st)) for st in recipe["stages"])]
    assert [s["name"] for s in report["stages"]] == expected
    res = subprocess.run([str(py), "-m", "cmedins.build", "--help"], cwd=empty, env=env, capture_output=True,
                         text=True)
    assert res.returncode == 0 and "RECIPE" in res.stdout


def test_console_script_lists_its_commands(capsys: pytest.CaptureFixture) -> None:
    from cmedins.cli import main

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("build", "deid", "synth", "tasks", "clean", "publish"))
    assert main(["nope"]) == 2
    assert "unknown command 'nope'" in capsys.readouterr().err


def test_a_stage_worker_imports_only_its_own_stage() -> None:
    """Looking up `tasks` imports neither the de-identifier nor presidio nor the readers (1 s per spawned worker)."""
    code = ("import sys; from cmedins.runner.worker import run_batch; from cmedins.stage import get_stage; "
            "get_stage('tasks'); print(sorted(m for m in sys.modules if m.startswith(('cmedins.deid', 'presidio', "
            "'cmedins.ingest', 'duckdb', 'jieba'))))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_the_runner_names_no_stage_module() -> None:
    """The runner knows stages only through the registry (`cmedins/stages.py`), so a new stage never edits it."""
    stage_modules = set(BUILTIN_STAGES.values()) | {m.rsplit(".", 1)[0] for m in BUILTIN_STAGES.values()}
    for path in (REPO / "cmedins" / "runner").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for module in stage_modules:
            assert f"import {module}" not in text and f"from {module} " not in text, (path.name, module)


def test_registering_a_taken_name_fails_naming_both_places() -> None:
    reg: Registry[str] = Registry("thing")

    def first() -> None: ...

    def second() -> None: ...

    reg.add("x", "a", first)
    reg.add("x", "a", first)  # the same definition again (a module imported twice) is fine
    with pytest.raises(RegistryError) as err:
        reg.add("x", "b", second)
    msg = str(err.value)
    assert "thing 'x' is registered twice" in msg and "first" in msg and "second" in msg
    assert msg.count("test_packaging.py:") == 2


def test_a_plugin_stage_cannot_take_a_builtin_stage_name() -> None:
    get_stage("deid")

    def my_deid(table, config, ctx):  # noqa: ANN001, ANN202
        return None

    with pytest.raises(RegistryError, match=r"stage 'deid' is registered twice: by cmedins\.deid\.stage\.deid_stage"):
        register_stage("deid", config=dict)(my_deid)


def test_a_plugin_task_cannot_take_a_builtin_task_name(tmp_path: Path) -> None:
    plugin = tmp_path / "clash_plugin.py"
    plugin.write_text(textwrap.dedent("""
        from cmedins.tasks.registry import Item, register_task

        @register_task("triage", "分诊")
        def build(record, config):
            return [Item(query="q", answer="a")]
    """), encoding="utf-8")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import clash_plugin"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode != 0
    last = res.stderr.strip().splitlines()[-1]
    assert "task 'triage' is registered twice" in last
    assert "cmedins.tasks.triage.build" in last and "clash_plugin.build" in last


def test_a_recipe_whose_contracts_do_not_chain_fails_before_running() -> None:
    with pytest.raises(ValueError, match="'tasks' reads deid_record but 'ingest' before it writes record"):
        check_chain([get_stage("ingest"), get_stage("tasks")])
    with pytest.raises(ValueError, match="cannot run"):
        check_chain([get_stage("deid")])
    check_chain([get_stage("ingest"), get_stage("deid"), get_stage("tasks"), get_stage("tasks_public")])


PLUGIN = """
from pathlib import Path

from cmedins.tasks.registry import Item, register_task


@register_task("echo_complaint", "主诉复述", templates=Path(__file__).with_name("echo_complaint.yaml"))
def build(record, config):
    return [Item(query=record["chief_complaint"], answer="ANSWER-{version}")]
"""
TEMPLATES = "task: echo_complaint\nzh:\n  - {instruction}\n"


def test_editing_a_plugin_task_reruns_the_tasks_stage(tmp_path: Path) -> None:
    """The plugin's builder and its template file are in the `tasks` cache key: an edit is never served stale."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    recipe = write_recipe(tmp_path / "recipe.yaml", batch_rows=100,
                          sources=[{"name": "synthetic", "kind": "synthetic", "records": 120, "seed": 3}],
                          stages=["deid", {"tasks": {"tasks": ["echo_complaint"], "plugins": ["echo_plugin"]}}])
    env = {**os.environ, "PYTHONPATH": str(plugins)}

    def build(version: str, instruction: str) -> tuple[bool, set[str], set[str]]:
        (plugins / "echo_plugin.py").write_text(PLUGIN.format(version=version), encoding="utf-8")
        (plugins / "echo_complaint.yaml").write_text(TEMPLATES.format(instruction=instruction), encoding="utf-8")
        res = subprocess.run([sys.executable, "-m", "cmedins.build", str(recipe), "--out", str(tmp_path / "o"),
                              "--quiet"], env=env, capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[-2000:]
        report = json.loads((tmp_path / "o" / "report" / "build_report.json").read_text())
        rows = pq.read_table(tmp_path / "o" / "output" / "tasks.parquet", columns=["answer", "instruction"])
        return (report["stages"][-1]["cached"], set(rows.column("answer").to_pylist()),
                set(rows.column("instruction").to_pylist()))

    assert build("1", "请复述主诉。") == (False, {"ANSWER-1"}, {"请复述主诉。"})
    assert build("1", "请复述主诉。")[0] is True  # nothing changed: cached
    assert build("2", "请复述主诉。") == (False, {"ANSWER-2"}, {"请复述主诉。"})  # builder edited
    assert build("2", "请复述患者的主诉。") == (False, {"ANSWER-2"}, {"请复述患者的主诉。"})  # template edited


def test_list_stages_documents_every_builtin_stage(capsys: pytest.CaptureFixture) -> None:
    from cmedins.build import main

    assert main(["--list-stages"]) == 0
    out = capsys.readouterr().out
    for name in BUILTIN_STAGES:
        assert f"\n{name}  (" in f"\n{out}"
    assert "deid  (map: record -> deid_record)" in out and "english_fraction:" in out
