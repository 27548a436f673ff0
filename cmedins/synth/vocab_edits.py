"""What a doctor changes when editing a copied note: synonyms, qualifiers, clauses, numbers, IME slips.

Every edit keeps words whole, so a planted near duplicate differs the way real copy-forward notes differ, never by a
character pushed into the middle of a word. Typing errors are whole characters of the same pinyin (the IME offered
the wrong candidate); negation characters (无未否不) are never mistyped, since that would change what the note says.
"""

from __future__ import annotations

# (word, replacement): one word for another with the same meaning in context. Both are jieba dictionary words.
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("患者", "病人"),
    ("病人", "患者"),
    ("明显", "显著"),
    ("缓解", "减轻"),
    ("好转", "改善"),
    ("给予", "予以"),
    ("自行", "自己"),
    ("目前", "现在"),
    ("近期", "最近"),
    ("逐渐", "渐渐"),
    ("饮食", "进食"),
    ("完善", "完成"),
    ("诊治", "治疗"),
    ("发病", "起病"),
    ("症状", "病症"),
    ("反复", "多次"),
    ("就诊", "看病"),
    ("定期", "按期"),
)

# Qualifiers a reviser adds in front of a word (inserted) or removes (deleted): 加重 -> 明显加重.
QUALIFIERS: dict[str, tuple[str, ...]] = {
    "加重": ("明显", "稍"),
    "好转": ("明显", "稍"),
    "缓解": ("稍", "明显"),
    "下降": ("明显",),
    "出现": ("再次",),
    "欠佳": ("仍",),
}
DROPPABLE = ("明显", "稍", "再次")

# Clauses added at the end of a sentence of the copy (before its full stop).
CLAUSES = ("较前好转", "无明显变化", "继续观察", "同前", "余无特殊", "病情稳定", "较前减轻")

# Same-pinyin characters (tones ignored) an IME may produce instead of the intended one.
TYPOS: dict[str, str] = {
    "症": "证", "状": "壮", "疼": "腾", "痛": "通", "部": "步", "检": "减", "查": "察", "示": "是", "显": "现",
    "明": "名", "伴": "半", "热": "惹", "头": "投", "晕": "云", "胸": "凶", "闷": "们", "气": "起", "腹": "复",
    "泻": "谢", "呕": "偶", "吐": "土", "前": "钱", "后": "候", "天": "添", "月": "越", "周": "州", "次": "此",
    "治": "至", "疗": "聊", "予": "与", "效": "校", "好": "号", "转": "专", "院": "愿", "诊": "真", "断": "段",
    "常": "长", "规": "归", "律": "绿", "服": "福", "用": "永", "药": "要", "片": "篇", "每": "美", "量": "亮",
    "精": "经", "神": "深", "饮": "引", "食": "时", "睡": "税", "眠": "棉", "便": "变", "体": "替", "重": "众",
    "轻": "清", "稍": "烧", "较": "叫", "继": "既", "续": "序", "观": "关", "再": "在", "仍": "扔", "可": "课",
    "约": "月", "偶": "藕", "加": "家", "患": "换", "者": "这", "出": "初", "现": "线", "病": "并", "情": "请",
    "平": "评", "往": "网", "史": "使", "健": "建", "康": "抗", "及": "即", "适": "是",
    "感": "敢", "等": "灯", "况": "矿", "度": "渡", "分": "份", "左": "作", "侧": "测", "上": "尚", "下": "夏",
    "性": "姓", "阵": "镇",
}

# Numbers a copy-forward revision updates (cigarettes a day, weight, siblings): never durations or dates, which the
# visit's timeline ties to other sections.
NUMBER_UNITS = ("支", "kg", "人")

# Sections whose sentences may be reordered: lists of findings and history items, not the story of the illness.
REORDERABLE = ("past_history", "personal_history", "family_history", "physical_exam", "auxiliary_exam")
