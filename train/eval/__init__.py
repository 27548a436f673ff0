"""Pairwise evaluation of two models (or adapters) the way the IIMedGPT paper does it.

Huatuo26M-test (single-turn QA) and CMtMedQA-test (multi-turn, judged turn by turn with the real history given) are
answered by model A and model B; a judge (an OpenAI-compatible endpoint, a local transformers model, or a fake one
for offline tests) compares the two answers on Professionalism and Fluency in both orders, so that position bias
cancels; hand-written safety items are judged pass/fail per answer. The result is win / tie / lose tables with
bootstrap confidence intervals, a stacked-bar chart and example wins and losses.

Why a separate package: a dataset version is only worth what the model trained on it does, and two versions are
compared by training on each and running this on both adapters.

Modules: `config` (the YAML), `items` (test-set loaders), `cache` (parquet caches), `generate` (answers),
`judges` (judge clients + verdict parsing), `judging` (position-swapped pairwise and single-answer judging),
`report` (bootstrap tables, examples), `chart` (SVG), `__main__` (the `python -m train.eval` commands).
"""
