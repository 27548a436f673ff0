"""The mixture: CMedINS task rows + medical dialogue + general data -> one SFT table with train/validation splits.

`config` (recipe options and the paper's default shares), `tokens` (the token approximation), `privacy` (residual
identifier screen of external texts), `budget` (token budget: split or drop long conversations), `sample` (seeded,
ratio-controlled, stratified sampling), `split` (grouped, stratified 90/10 splits and the leakage check) and
`stage` (the registered `mix` stage that runs them in that order).
"""
