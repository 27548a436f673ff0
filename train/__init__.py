"""LoRA SFT then DPO on the published CMedINS shards with trl + peft (see train/README.md)."""
