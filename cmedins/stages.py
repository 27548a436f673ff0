"""The built-in stages: name → the module that registers it.

`get_stage` imports only the module of the stage asked for, so a worker process running `tasks` never pays for
the de-identifier's imports. A new built-in stage adds one line here.
"""

from __future__ import annotations

BUILTIN_STAGES: dict[str, str] = {
    "ingest": "cmedins.ingest.stage",
    "deid": "cmedins.deid.stage",
    "tasks": "cmedins.tasks.stage",
    "tasks_public": "cmedins.tasks.stage",
    "clean": "cmedins.clean.stage",
    "dedup": "cmedins.clean.stage",
    "mix": "cmedins.mix.stage",
    "kanon": "cmedins.validate.stage",
    "preference": "cmedins.preference.stage",
    "validate_rows": "cmedins.validate.stage",
    "validate": "cmedins.validate.stage",
    "publish": "cmedins.publish.stage",
}
