"""Publishing: the validated table as a versioned dataset repository in the Hugging Face layout.

- `stage.py`: the `publish` stage writes `<out>/dataset/` atomically: `data/<config>/<split>-NNNNN-of-MMMMM.parquet`,
  `README.md` (the card, from `data_cards/`), `plots/*.svg`, `manifest.json`, `dataset_info.json` (LLaMA-Factory);
- `hub.py`: `python -m cmedins.publish --repo-id ORG/NAME` pushes that folder (one `upload_folder` + a tag);
- `diff.py`: `python -m cmedins.publish diff OLD NEW` says what changed between two versions.
"""
