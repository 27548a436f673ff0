"""A tiny Qwen2-architecture causal LM + tokenizer with a ChatML template, built offline.

Why: the tests (and the evaluation issue) need a real model folder that `AutoModelForCausalLM` / `AutoTokenizer`
load exactly like a Hub checkpoint, without any network access. The tokenizer is a `Qwen2Tokenizer` built from a
byte-level BPE trained here with Qwen's own normalizer and pre-tokenizer, so a save → load round trip gives the same
ids. The chat template is ChatML with `{% generation %}` markers around assistant content (including `<|im_end|>`),
which trl needs for `assistant_only_loss=True` and to learn to stop.

    python -m train.tiny --out DIR [--dataset PUBLISHED_FOLDER] [--vocab-size 2048] [--seed 0]

With `--dataset`, the BPE is also trained on the `sft` train split of that published folder (shorter sequences,
faster tests); without it, only on the fixed corpus below. Either way the output is deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- message['content'] + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# A fixed bilingual corpus so the tokenizer is reproducible without any data (and covers the template's words).
CORPUS = [
    "患者，男，65岁，因反复咳嗽、咳痰10年，加重伴气促3天入院。",
    "主诉：发热伴咽痛2天。现病史：2天前受凉后出现发热，最高体温38.9℃，伴咽痛、乏力。",
    "既往史：高血压病史10年，规律服用氨氯地平片5mg每日一次，血压控制可。否认糖尿病、冠心病史。",
    "体格检查：体温37.8℃，脉搏96次/分，呼吸20次/分，血压135/85mmHg。双肺呼吸音粗，可闻及少许湿啰音。",
    "辅助检查：血常规示白细胞12.3×10^9/L，中性粒细胞百分比85%。胸部CT示右下肺炎症。",
    "诊断：社区获得性肺炎；高血压病2级。治疗：予头孢曲松抗感染、氨溴索化痰等对症治疗。",
    "请根据以下病历，给出初步诊断及诊断依据，以JSON格式输出。",
    "请为下列患者推荐就诊科室，并说明理由。推荐科室：呼吸内科。理由：咳嗽、咳痰、发热，考虑呼吸系统感染。",
    "出院小结：患者住院7天，症状明显好转，复查血常规正常，准予出院。出院医嘱：注意休息，1周后门诊复诊。",
    "用药建议：阿莫西林胶囊0.5g口服，每日三次；布洛芬缓释胶囊0.3g口服，发热时服用。",
    "医生您好，我最近总是头晕、心慌，晚上睡不好，需要做什么检查？",
    "您好，根据您的描述，建议先测量血压，完善心电图、血常规和甲状腺功能检查。",
    "神经内科、心内科、消化内科、内分泌科、普外科、骨科、妇产科、儿科、急诊科、皮肤科。",
    "腹痛、腹泻、恶心、呕吐、胸闷、胸痛、头痛、头晕、乏力、水肿、皮疹、关节疼痛、尿频、尿急。",
    "The patient is a 65-year-old man admitted with cough, sputum and shortness of breath for three days.",
    "Please give a preliminary diagnosis and the supporting evidence, in JSON format.",
    "Recommended department: respiratory medicine. Reason: fever and productive cough suggest an infection.",
    "Hello doctor, I have had a headache and dizziness for a week. What should I do?",
    "0123456789 {} [] () \" : , . ; ! ? % / - + = < > # * _ \n \t",
]


def corpus_from_dataset(folder: str | Path, limit: int = 5000) -> list[str]:
    """Message texts from the published `sft` train shards, in file order (deterministic)."""
    import pyarrow.parquet as pq

    texts: list[str] = []
    for shard in sorted(Path(folder, "data", "sft").glob("train-*.parquet")):
        for messages in pq.read_table(shard, columns=["messages"]).column("messages").to_pylist():
            texts.extend(m["content"] for m in messages if m.get("content"))
            if len(texts) >= limit:
                return texts[:limit]
    return texts


def build_tokenizer(extra_texts: list[str] | None = None, vocab_size: int = 2048):
    """Train a byte-level BPE with Qwen2's normalizer + pre-tokenizer and wrap it as a `Qwen2Tokenizer`."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import AddedToken, Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.normalizer = normalizers.NFC()
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS + list(extra_texts or []), trainer=trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tok = Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        extra_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS], special_tokens=True)
    tok.chat_template = CHAT_TEMPLATE
    tok.model_max_length = 4096
    return tok


def build_model(vocab_size: int, seed: int = 0, eos_token_id: int | None = None, pad_token_id: int | None = None):
    """A ~160k-parameter Qwen2 causal LM (2 layers, hidden 64, GQA 4/2 heads), seeded for reproducibility."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        bos_token_id=None,
        initializer_range=0.2,
    )
    return Qwen2ForCausalLM(config)


def write_tiny(out: str | Path, dataset: str | Path | None = None, vocab_size: int = 2048, seed: int = 0) -> Path:
    """Write the tiny model + tokenizer to OUT (a folder `from_pretrained` reads); returns OUT."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tok = build_tokenizer(corpus_from_dataset(dataset) if dataset else None, vocab_size=vocab_size)
    model = build_model(len(tok), seed=seed, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.tiny", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder to write the model and tokenizer to")
    parser.add_argument("--dataset", help="published dataset folder whose sft train text also trains the tokenizer")
    parser.add_argument("--vocab-size", type=int, default=2048)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.dataset and not Path(args.dataset, "data", "sft").is_dir():
        print(f"error: {args.dataset} has no data/sft/ (not a published dataset folder)", file=sys.stderr)
        return 2
    out = write_tiny(args.out, dataset=args.dataset, vocab_size=args.vocab_size, seed=args.seed)
    print(f"tiny model + tokenizer written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
