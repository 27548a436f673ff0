"""`dataset_info.json` for LLaMA-Factory, so its users train from the published folder unchanged.

One entry per config and split. Each uses LLaMA-Factory's `script_url` loader (`load_dataset(<dataset_dir>/.,
name=<config>, split=<split>)`), which reads the same Hub layout and card `configs:` as `datasets` does; so
`dataset_dir: <published folder>` and `dataset: cmedins_sft` (or `cmedins_sft_validation`, `cmedins_triage`...)
is all a LLaMA-Factory recipe needs. SFT rows are `formatting: sharegpt` over the OpenAI-style `messages`
column; preference rows are `ranking: true` with the prompt messages and ONE chosen / rejected message each
(`chosen_message`, `rejected_message`: LLaMA-Factory wants a single message where trl wants a list).
A `tools` column (function specs of tool-calling conversations) is mapped too.
When the recipe names a Hub repository, `<entry>_hub` entries load the same data from there (`hf_hub_url`).
"""

from __future__ import annotations

from typing import Any

TAGS = {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant",
        "system_tag": "system"}


def entry_name(prefix: str, config: str, split: str) -> str:
    return f"{prefix}_{config}" if split == "train" else f"{prefix}_{config}_{split}"


def dataset_info(configs: dict[str, list[str]], *, prefix: str = "cmedins", repo_id: str = "",
                 preference: tuple[str, ...] = ("dpo",), tools: bool = False) -> dict[str, Any]:
    """The entries for `configs` (config name -> its splits)."""
    info: dict[str, Any] = {}
    for config in sorted(configs):
        for split in configs[config]:
            entry: dict[str, Any] = {"script_url": ".", "subset": config, "split": split, "formatting": "sharegpt"}
            if config in preference:
                entry["ranking"] = True
                entry["columns"] = {"messages": "prompt", "chosen": "chosen_message", "rejected": "rejected_message"}
            else:
                entry["columns"] = {"messages": "messages", **({"tools": "tools"} if tools else {})}
            entry["tags"] = dict(TAGS)
            name = entry_name(prefix, config, split)
            info[name] = entry
            if repo_id:
                hub = {k: v for k, v in entry.items() if k != "script_url"}
                info[f"{name}_hub"] = {"hf_hub_url": repo_id, **hub}
    return info
