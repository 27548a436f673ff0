"""The default build's demo evaluation set: `cmedins/clean/data/demo_eval.json`, written by this module.

The real evaluation sets (Huatuo26M-test, CMtMedQA-test) are not shipped, so a fresh install cannot
decontaminate against them; the default recipe instead names this small set, in the Huatuo26M-test layout
({id: "", instruction: [question], input: "", output: [answer]}), and plants a few of its items among the rows
(`plant_eval`) to show that exactly those are removed. The items are written here for the purpose, in the style
of consumer health questions, not copied from any data set; `python -m cmedins.clean.demo_eval` rewrites the file
and a test checks that the shipped file is what this module writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PATH = Path(__file__).parent / "data" / "demo_eval.json"

# (question, analysis, advice)
ITEMS: tuple[tuple[str, str, str], ...] = (
    ("孩子三岁半，这两天晚上老是咳嗽，白天还好，需要去医院拍片子吗？",
     "夜间咳嗽明显而白天较轻，常见于鼻后滴漏、咳嗽变异性哮喘或感冒恢复期。",
     "先观察体温和精神状态，保持室内湿润；若咳嗽超过两周、出现喘息或发热，请到儿科就诊，是否拍片由医生决定。"),
    ("我妈今年六十八了，最近老说走路的时候腿发软没力气，是不是缺钙啊？",
     "老年人下肢无力原因较多，除骨质疏松外，还要考虑腰椎管狭窄、周围神经病变、血糖或血钾异常。",
     "不建议自行长期补钙，先到医院查血常规、电解质、血糖和腰椎影像，明确原因后再处理。"),
    ("吃完火锅第二天肚子一阵一阵地疼，拉了三次稀的，用不用吃消炎药？",
     "进食辛辣油腻后出现阵发性腹痛和腹泻，多为急性胃肠炎或饮食不耐受，不一定是细菌感染。",
     "注意补充口服补液盐，清淡饮食；若有高热、便血或腹泻超过三天，请及时就医，抗生素须遵医嘱使用。"),
    ("体检报告上写着甲状腺结节三类，大小六毫米，这个严重吗要不要开刀？",
     "TI-RADS 3类结节恶性风险较低，6毫米属于小结节，多数只需定期随访。",
     "建议半年到一年复查一次甲状腺超声，如结节明显增大或出现可疑征象，再考虑穿刺或手术。"),
    ("每次蹲下再站起来眼前就发黑，要扶着墙才能站稳，这是低血压吗？",
     "体位改变时出现眼前发黑，常见于体位性低血压，也与贫血、脱水或久坐有关。",
     "起身时动作放缓，多饮水；可以在家测量卧位和站立后的血压，如症状频繁或伴晕厥，请到心内科就诊。"),
    ("我老公打呼噜特别响，有时候半夜像憋住了一样好几秒不喘气，会有危险吗？",
     "打鼾伴夜间呼吸暂停，需要警惕阻塞性睡眠呼吸暂停综合征，长期可增加高血压和心脑血管疾病风险。",
     "建议到睡眠中心或呼吸科做多导睡眠监测，同时控制体重、戒烟限酒、避免睡前饮酒。"),
    ("脸上反复长痘痘，下巴那一圈最多，用了好多洗面奶都不管用怎么办？",
     "下颌部位反复痤疮常与激素波动、作息不规律和皮肤清洁过度有关。",
     "避免频繁更换洁面产品和挤压，规律作息；中重度痤疮请到皮肤科就诊，在医生指导下外用或口服药物。"),
    ("最近半年总是半夜两三点就醒，醒了再也睡不着，白天没精神，该挂什么科？",
     "早醒且难以再次入睡，可见于焦虑抑郁状态、作息紊乱或某些躯体疾病。",
     "可以先到睡眠门诊或心理科评估，保持固定起床时间，睡前减少使用手机，不要自行服用安眠药。"),
    ("跑步以后膝盖外侧疼，上下楼梯更明显，休息几天就好一跑又疼是怎么回事？",
     "运动后膝关节外侧疼痛反复，常见于髂胫束摩擦综合征，与跑量增加过快和臀部力量不足有关。",
     "暂停跑步一到两周，做拉伸和臀中肌训练，必要时到运动医学科就诊，恢复跑步时循序渐进。"),
    ("宝宝八个月，屁股上红了一大片还有小疙瘩，是湿疹还是尿布疹？",
     "尿布区域的红斑丘疹多为尿布皮炎，与潮湿和摩擦有关，若边缘有卫星状小疹需考虑念珠菌感染。",
     "勤换尿布，清洗后晾干再涂护臀膏；如三到五天不好转或出现脓疱，请到儿科或皮肤科就诊。"),
    ("手指关节早上起来发僵，要活动半个多小时才能好，会不会是类风湿？",
     "晨僵超过半小时并累及手指小关节，需要排查类风湿关节炎等炎性关节病。",
     "建议到风湿免疫科检查类风湿因子、抗CCP抗体、血沉和关节影像，早诊断早治疗可减少关节破坏。"),
    ("怀孕二十周，这几天小腿晚上老抽筋，疼得睡不着，能吃点什么药缓解吗？",
     "孕中晚期小腿抽筋常见，与钙需求增加、下肢循环变化和疲劳有关。",
     "睡前可热敷和拉伸小腿，饮食中增加奶制品；是否补钙及剂量请咨询产科医生，不要自行用药。"),
)


def render() -> str:
    """The file's text: a JSON array in the Huatuo26M-test layout, one item per question."""
    items = [{"id": "", "instruction": [q], "input": "", "output": [f"问题分析：{analysis}意见建议：{advice}"]}
             for q, analysis, advice in ITEMS]
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


def main() -> int:
    PATH.write_text(render(), encoding="utf-8")
    print(f"wrote {len(ITEMS)} items to {PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
