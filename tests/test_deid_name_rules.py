"""Each person-name rule of `cmedins.deid.detect_names`, on short clinical sentences written for these tests.

For every rule in `RULES`: sentences where that rule must find the given name (the span's `source` names the rule;
other rules may find the same name too), and sentences with medical words in the name's place where no name at all
may be found. Known gaps are kept as strict xfails, so fixing one shows up here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cmedins.deid import DeidConfig, deidentify_texts
from cmedins.deid import lexicon as lexicon_module
from cmedins.deid.detect_names import RULE_NAMES, detect_names
from cmedins.deid.lexicon import DATA_DIR, lexicon


def _gap(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=reason)


# rule -> (sentences with the name that rule must find, sentences where nothing may be found)
RULE_CASES: dict[str, tuple[list, list]] = {
    "kin_status": (
        [
            ("家族史：父蒋文涛已故，母胡玉珍体健。", "蒋文涛"),
            ("家族史：父蒋文涛已故，母胡玉珍体健。", "胡玉珍"),
            ("兄赵立新健在，无遗传病史。", "赵立新"),
            ("弟孙海涛去世5年，死因不详。", "孙海涛"),
            ("侄徐海峰体健。", "徐海峰"),
        ],
        [
            "父冠心病已故，母糖尿病健在。",
            "兄高血压体健。",
        ],
    ),
    "clause_start": (
        [
            ("潘丽华诉反复头晕5年。", "潘丽华"),
            ("邵振宇因右上腹痛2天来诊。", "邵振宇"),
            ("入院后，黄建平自述乏力明显。", "黄建平"),
            ("郑晓东反复胸闷2年。", "郑晓东"),
            ("患者神清。曹文轩诉右膝疼痛。", "曹文轩"),
            ("谢婉清自觉心悸1月。", "谢婉清"),
            ("术后第2天，宋光明称切口疼痛减轻。", "宋光明"),  # the given name is a word (光明)
            ("查房记录\n时桂芬诉双膝疼痛。", "时桂芬"),  # a weak surname with a name-typical given name
        ],
        [
            "严重因感染所致。",
            "周身乏力3天。",
            "常呈现阵发性加重。",
            "血小板明显上升，常可高于600。",
            "支原体感染的治疗原则是抗感染。",
            "时感乏力，常伴头晕。",
        ],
    ),
    "masked": (
        [
            ("夜班巡视，陪护家属钱XX在床旁。", "钱XX"),
            ("联系人：王**，电话见病案首页。", "王**"),
            ("患者李××，男，56岁。", "李××"),
        ],
        [
            "肛周**可见红肿。",
            "于**医院行手术。",
        ],
    ),
    "surname_xing": (
        [
            ("唐姓女士，38岁，因腹痛就诊。", "唐姓"),
            ("据述，王姓男子于路边晕倒。", "王姓"),
            ("明早抽符姓患者血培养。", "符姓"),  # a character before the surname that makes no word with it
            ("来电的是一位姓闵的阿姨，说要改约。", "闵"),  # the surname after 姓
            ("他只肯说自己姓谭，别的不肯讲。", "谭"),
        ],
        [
            "家族中无同姓近亲婚配史。",
            "移动性浊音阴姓，肠鸣音4次/分。",  # a typo of 阴性 after other text: no person follows
            "于姓，",
        ],
    ),
    "paren_kin": (
        [
            ("父（石建军）因脑梗死去世。", "石建军"),
            ("母（范秋云）健在，患高血压。", "范秋云"),
            ("姐（夏雨婷）体健。", "夏雨婷"),
            ("妻（吴晓燕）体健。", "吴晓燕"),
        ],
        [
            "母（冠心病）已故。",
            "父（高血压）控制可。",
        ],
    ),
    "escort": (
        [
            ("由丈夫段鹏飞陪同来诊。", "段鹏飞"),
            ("患者由其女儿卢晓燕搀扶入院。", "卢晓燕"),
            ("由同事汤建国送来急诊。", "汤建国"),
            ("由邻居刘建设送入院。", "刘建设"),
            ("外甥于浩然陪同。", "于浩然"),
        ],
        [
            "由家属于急诊陪同。",
            "经急诊由平车送入病房。",
            "由麻醉科护送返回病房。",
        ],
    ),
    "lao_surname": (
        [
            ("老周，男，因咳嗽就诊。", "老周"),
            ("患者老谭因胸闷来诊。", "老谭"),
            ("您好，我是社区的小覃，想问问您血压。", "小覃"),  # 小 + a surname, after 的
            ("门口保安老翟，帮忙推了轮椅。", "老翟"),  # after a person noun
            ("夜班：小甄", "小甄"),  # at the end of the text
        ],
        [
            "老年患者，男，80岁。",
            "吃的小米，肝的小叶，是小孔，大小正常。",  # 小 + a surname character that makes a word
            "衰老，乏力。",
            "老慢支，",
            pytest.param("老花，视物模糊。", marks=_gap("老花 (presbyopia) is read as 老 + the weak surname 花")),
        ],
    ),
    "clinic_of": (
        [
            ("1月后至罗文静处复诊。", "罗文静"),
            ("挂廖明辉门诊随访。", "廖明辉"),
            ("请于姜雪梅专家处就诊。", "姜雪梅"),
        ],
        [
            "至神经内科门诊随诊。",
            "挂骨科专家门诊。",
            "至我院门诊复查。",
        ],
    ),
    "surname_mou": (
        [
            ("邹某某，男，41岁，车祸伤。", "邹某某"),
            ("张某因车祸致左下肢疼痛。", "张某"),
            ("外伤后由欧阳某某送来。", "欧阳某某"),
            ("家属王某已签字。", "王某"),
        ],
        [
            "常因某些诱因加重。",
            "某种原因导致。",
        ],
    ),
    "surname_title": (
        [
            ("宋女士于昨晚出现腹痛。", "宋女士"),
            ("邀神经外科赵主任会诊。", "赵主任"),
            ("挂韩立新护士长门诊换药。", "韩立新护士长"),
            ("刘老太太，79岁，既往糖尿病。", "刘老太太"),
            ("经范志明主任医师查看后予以调整。", "范志明主任医师"),
            ("于主任门诊随访。", "于主任"),
            ("由派出所郝警官护送来院。", "郝警官"),  # officers, lawyers, judges, researchers
            ("委托代理人：薛律师。", "薛律师"),
            ("隔壁床的孟婶帮忙打了饭。", "孟婶"),  # a neighbour's kinship title after the surname
            ("产程由阚助产士全程陪伴。", "阚助产士"),  # the professions of a ward
        ],
        [
            "值班医生巡视病房。",
            "请各班班主任组织学生学习。",  # 班主任 is a role; 班 before it is no surname
            "可闻及枪击音（特劳伯征），患者曾在芝加哥工作。",  # transliterations hold kinship characters
            "管床医生已告知病情。",
            "主治医师查房后指示。",
        ],
    ),
    "label_paren": (
        [
            ("母亲（黎淑芬）体健。", "黎淑芬"),
            ("联系人（严晓东）已签字。", "严晓东"),
            ("紧急联系人（张伟）电话已留。", "张伟"),
        ],
        [
            "家属（女儿）已知情。",
            pytest.param("母亲（糖尿病）控制可。", marks=_gap("a disease in brackets after a kinship label is taken")),
        ],
    ),
    "label_nr": (
        [
            ("同事姚以翔来院。", "姚以翔"),
            ("其妻蒋以琳体健。", "蒋以琳"),
            ("室友冯以宁送入院。", "冯以宁"),
            ("老伴宋以华已故。", "宋以华"),
        ],
        [
            "患者陈述病史清楚。",
            "患者发热伴咽痛。",
        ],
    ),
    "label_mou": (
        [
            ("同事于某陪同。", "于某"),
            ("患者柳某某，因胸痛入院。", "柳某某"),
            ("其女张某某陪同。", "张某某"),
            ("患者赵某，女，因腹痛入院。", "赵某"),
        ],
        [
            "患者曾于某医院行阑尾切除术。",
            "常因某些诱因加重。",
        ],
    ),
    "label_weak": (
        [
            ("外甥于浩然陪同。", "于浩然"),
            ("配偶于洁体健。", "于洁"),  # the name ends where the status (体健) begins
            ("患者于婷萱，1周前出现腹泻。", "于婷萱"),
            ("病人于梓萱，3天前出现咳嗽。", "于梓萱"),
            ("上级医师 于建设；", "于建设"),
            ("主治医师 于行勇；", "于行勇"),
        ],
        [
            "患者于近日，出现乏力。",
            "患者于外院，行胃镜检查。",
            "患者于当地，",
        ],
    ),
    "label_surname": (
        [
            ("患者卫小平，女，63岁，因心悸入院。", "卫小平"),
            ("患者白芷，女，37岁，因心悸入院。", "白芷"),  # a herb's name, but a herb has no sex and age
            ("感谢各位医护照顾家母邝玉珍。", "邝玉珍"),  # 家母, 家父: one's own parent
            ("其父孟庆祥患慢阻肺多年。", "孟庆祥"),
            ("记录医师：詹晓峰", "詹晓峰"),
            ("主管医生 柏雨辰 查房", "柏雨辰"),
            ("其子龚政和陪同就诊。", "龚政和"),
            ("配偶于雅琴体健。", "于雅琴"),
            ("上级医师 于志斌；", "于志斌"),
            ("已婚，配偶胡琴已故。", "胡琴"),  # a name that is also a word
        ],
        [
            "母亲呼叫救护车后送医。",  # after a kinship word: a phrase, not a name
            "必须检查母亲和新生儿的血型。",
            "胃部不适的朋友平时应该少食多餐。",
            "患者陈述病史清楚。",
            "患者高热伴寒战。",
            "患者白细胞升高。",
            "其母高血压病史多年。",
        ],
    ),
    "label_form": (
        [
            ("姓名：木兰心 性别：女", "木兰心"),
            ("姓名：买买提江，男", "买买提江"),
            ("记录者：禾木子", "禾木子"),
            ("名字：木子美，", "木子美"),
            ("姓名买买提江，男", "买买提江"),  # no colon: a form all the same
        ],
        [
            "请核对姓名后再执行。",  # the word 姓名 in a sentence, no field
            "姓名：\n性别：女",  # an empty field
            "家属签字：同意手术。",
            "记录人：见上。",
            "检查者：心电图室",
        ],
    ),
    "label_spaced": (
        [
            ("姓 名：唐晓峰 性 别：男", "唐晓峰"),
            ("姓　名 欧阳娜娜", "欧阳娜娜"),
            ("姓 名 ：王小明", "王小明"),
        ],
        [
            "性 别：男 年 龄：45岁",
        ],
    ),
    "en_title": (
        [
            ("Dr. Huang 建议手术。", "Huang"),
            ("请 Prof. Li Ming 会诊", "Li Ming"),
            ("Mr. Zhou 拒绝进一步检查。", "Zhou"),
            ("Ms. Chen 随访。", "Chen"),
            ("经Dr. Liu Yang会诊。", "Liu Yang"),  # no word boundary between 经 and Dr
            ("Plan discussed with mom. Husband Daniel joined by phone.", "Daniel"),  # an English kinship word
        ],
        [
            "Mother Tongue: Mandarin",  # a field, not a mother's name
            "DR胸片示双肺纹理增粗。",
            "Phalen征阳性，DR示腕关节退变。",
        ],
    ),
    "english_given": (
        [
            ("陪诊翻译：Wendy（英语）", "Wendy"),  # a common English given name alone, after a label
            ("室友Kevin发现后拨打120", "Kevin"),  # after a person word, glued to Han text
        ],
        [
            "Lauren分型：肠型",  # an eponym's classification
            "Max 20mg qd",  # not on the list of names taken alone
            "Grace研究显示获益",  # a trial's name before Han text, no person word before it
        ],
    ),
    "en_label_name": (
        [
            ("Patient: ZHOU, Minghui　DOB: 1988", "ZHOU, Minghui"),  # a capital surname, a comma, the given name
            ("Reported by: K. Huang, MD", "K. Huang"),  # an initial and a surname
            ("Interpreter: Tran Van Minh\n", "Tran Van Minh"),  # any capitalised words after the label
        ],
        [
            "Patient: Stable overnight",
            "Name: Unknown",
        ],
    ),
    "romanised_name": (
        [
            ("Attending: Qian Yu，已查看患者。", "Qian Yu"),
            ("病理会诊 Lixin Wang 签发。", "Lixin Wang"),
            ("外籍患者David Miller，男，45岁。", "David Miller"),
            ("随访员 Sarah Liu 电话联系。", "Sarah Liu"),
            ("腕带：ZHANG XIAOHONG，女", "ZHANG XIAOHONG"),  # capitals, as passports and wristbands write them
            ("外籍患者Aisha Khan，女，35岁。", "Aisha Khan"),  # any two capitalised words right after a person label
            ("Consent read to Guardian Xu Lanfang today.", "Xu Lanfang"),  # the pair after a word that is none
            ("Ward round by ZHOU Mingyu at 9am.", "ZHOU Mingyu"),  # surname in capitals, given name in title case
            ("臨床心理學家：NG Wai Kwan", "NG Wai Kwan"),  # a Cantonese surname and given names
        ],
        [
            "CT SCAN 示 MRI BRAIN 正常，HBV DNA 阴性。",
            "NG Tube 置入顺利，HE Stain 阳性。",  # a capitalised abbreviation before an English term
            "患者Holter Monitor示窦性心律，患者Down Syndrome。",  # English medical words are no name
            "China Daily 报道了该病例。",
            "CT Scan 示 Left Lung 结节，Type II 糖尿病。",
            "复查 Holter Monitor 未见异常。",
        ],
    ),
    "reference_authors": (
        [
            ("[12] Halvorsen KB, Mbeki T, Ruiz-Castro A. Outcomes of ...", "Halvorsen KB"),
            ("[12] Halvorsen KB, Mbeki T, Ruiz-Castro A. Outcomes of ...", "Ruiz-Castro A"),
            ("见Okoye N et al. 的报告", "Okoye N"),  # one author before et al
            ("参见Lindgren P, Saito M等的研究。", "Saito M"),
        ],
        [
            "合并Hepatitis B, Hepatitis C感染。",  # English medical words are no authors
            "分期Stage IV, Grade III，Vitamin D缺乏。",
            "Brennan T",  # one item, no list and no et al
        ],
    ),
    "colon_nr": (
        [
            ("审核者：王建军，", "王建军"),
            ("责任人：刘洋。", "刘洋"),
            ("主持人：吴刚。", "吴刚"),
            ("记录员：郑丽，", "郑丽"),
        ],
        [
            "大便：黄软，",
            "胆汁引流：黄绿色，",
            "痰液：白黏，",
        ],
    ),
    "demographic": (
        [
            ("葛天明，男，45岁，因腹痛入院。", "葛天明"),
            ("禤雅文（女，30岁）", "禤雅文"),
            ("阿依古丽，女，30岁，体检。", "阿依古丽"),
            ("林小玲 女 27岁 门诊", "林小玲"),
            ("患者邱以峰，男，50岁", "邱以峰"),
            pytest.param("患者黄为民，男，62岁。", "黄为民", marks=_gap("为 in the given name is a hard stop")),
            ("蓝海洋：男，1969年出生，中国国籍。", "蓝海洋"),  # a resume's opening: a colon, then a birth year
            ("覃美玲，女，壮族，1988年生。", "覃美玲"),  # a people after the sex
            ("患者 谭宏亮 男 76y", "谭宏亮"),  # an age in English shorthand
            ("宁 书 男 45岁，胸痛。", "宁 书"),  # one space inside the name, as a form pads it
        ],
        [
            "性别：男，45岁。诊断：女，2020年确诊。",  # a field label before the colon, no surname
            "患儿，女，5岁，咳嗽3天。",
            "新生儿，女，1天。",
            "老年患者，男，80岁。",
        ],
    ),
    "appointed": (
        [
            ("董事会同意聘任郁向阳为公司财务总监。", "郁向阳"),  # a given name that is a word
            ("会议选举蓝天明为新一届理事长。", "蓝天明"),
            ("同意提名祁海峰、和平为独立董事候选人。", "和平"),  # a weak surname and a word, second on the list
        ],
        [
            "选举产生了新一届委员会，任期为三年。",
            "以任命书为准。",
        ],
    ),
    "role_field": (
        [
            ("签字人：赵志强", "赵志强"),
            ("户名：周建平，开户行：工商银行", "周建平"),
            ("转诊医生（签字）：林志远", "林志远"),
            ("姓名：宁　书", "宁　书"),
        ],
        [
            "签字人：本人",
            "负责人：高血压门诊",
            "检查者：无",
        ],
    ),
    "author": (
        [
            ("本记录由何佳怡于2023-05-02录入。", "何佳怡"),
            ("用户杨帆（IP：1.2.3.4）提交咨询。", "杨帆"),
            ("我是黄美玲的女儿，想问问我妈的情况。", "黄美玲"),
        ],
        [
            "由护士完成宣教。",
            "由于病情加重转入ICU。",
            "我是患者的女儿。",
        ],
    ),
    "bed_name": (
        [
            ("43床王建国，术后返回病房。", "王建国"),
            ("12床 李秀英 今日拔除尿管。", "李秀英"),
            ("夜间巡视：21床田园，睡眠好。", "田园"),  # a word as a name: the bed says a patient stands there
            ("急查结果回报：6床简洁血钠128。", "简洁"),
        ],
        [
            "12床患者夜间入睡可。",
            "C5床病人已转科。",
            "3床高血压控制可。",
        ],
    ),
    "class_name": (
        [
            ("五(3)班周子墨 发热38.5℃，已通知家长。", "周子墨"),
            ("晨检登记 初一（4）班：雷思琪 体温37.9℃", "雷思琪"),
        ],
        [
            "三(2)班同学集体接种流感疫苗。",
            "初二（1）班学生晨检体温正常。",
        ],
    ),
    "role_noun": (
        [
            ("投诉人孟晓东称其父在候诊时摔倒。", "孟晓东"),
            ("雇主潘立新在外地出差。", "潘立新"),
            ("多学科讨论：胸外科孔德明、放疗科车晓丽。", "孔德明"),
        ],
        [
            "心肌酶谱或者两者都有升高。",
            "息肉可发生于任何部位。",
            "广泛开展卫生宣教，防止再感染。",
        ],
    ),
    "act_field": (
        [
            ("检验：韦\u3000婷\u3000审核：何志明", "韦\u3000婷"),
            ("参加抢救：牛天宇、许嘉文。", "许嘉文"),
        ],
        [
            "诊断：高血压病3级。",
            "处理：予硝酸甘油舌下含服。",
            "记录：体温正常。",
        ],
    ),
    "spaced_name": (
        [
            ("6月10日 一线 秦立伟 二线 周德福", "秦立伟"),
            ("接种名单\n1. 毕淑贞 96岁 已接种", "毕淑贞"),
            ("值班表：白班 潘晓燕、夜班 韩志刚", "潘晓燕"),
        ],
        [
            "体温 正常 诊断 高血压 糖尿病",
            "查体 心肺 未见 异常",
            "主诉 头痛 2天 白术 12g",
        ],
    ),
    "minority_name": (
        [
            ("主治医师：乌云其木格。", "乌云其木格"),
            ("由护士拉巴次吉协助翻译。", "拉巴次吉"),
            ("产妇其其格，蒙古族，32岁。", "其其格"),
            ("彝族代表吉克伍各发言。", "吉克伍各"),  # a Yi clan name and a given name, after a person noun
            ("救援队员买尔旦、高原背出两名老人。", "买尔旦"),
            ("艾力明天来复查。", "艾力"),  # a name part, then a word (明天): 艾力, not 艾力明
        ],
        [
            "乌兰浩特市第二医院转入。",
            "口服阿拉坦五味丸，症状好转。",
            "阿曼籍旅客，发热3天。",
        ],
    ),
    "dotted_name": (
        [
            ("陪诊：阿不都拉·买合木提。", "阿不都拉·买合木提"),  # between delimiters
            ("主讲嘉宾：玛丽·居里叶，", "玛丽·居里叶"),  # a transliterated Western name
        ],
        [
            "详见《素问·阴阳应象大论》。",  # a book's chapter
            "引自伤寒杂病论·辨脉法，",  # a first part too long for a name
        ],
    ),
    "called_name": (
        [
            ("宝宝叫朵朵，两岁，发热1天。", "朵朵"),
            ("孩子小名叫乐乐。", "乐乐"),
            ("乳名：豆豆，足月顺产。", "豆豆"),
            ("来人拒报姓名，只自称“老疤”。", "老疤"),  # a quoted nickname after 自称 or 叫
            ("病房里都叫她“小芒果”。", "小芒果"),
        ],
        [
            "叫醒患者后诉头晕。",
            "血压低于90/60就叫“低血压”。",  # a term in quotes
            "夜间听到叫声，查看患者。",
        ],
    ),
    "doubled_name": (
        [
            ("我家果果两岁半，夜里咳嗽。", "果果"),  # after a word for one's child
            ("请贝贝家长明早带疫苗本来。", "贝贝"),  # before a parent
        ],
        [
            "天天妈妈都来陪护。",  # a doubled word (every day)
            "鼻子里长了个豆豆，很疼。",  # no child or parent around it
        ],
    ),
    "signed_name": (
        [
            ("感谢三病区全体医护！——患者家属 \n——春兰", "春兰"),  # a given name signing a letter
            ("以上情况属实。——司徒静", "司徒静"),
        ],
        [
            "全文完——转载请注明",
            "血压控制——尚可",
        ],
    ),
    "phone_directory": (
        [
            ("值班：夏至 158 7421 2219", "夏至"),  # a name that is a word, before a mobile number
            ("儿科：柏林 0571-8765 4321", "柏林"),  # before a landline
        ],
        [
            "联系电话：手机 13812345678",  # the phone's own label
            "随访：电话 13812345678 未接通",
        ],
    ),
}

# medical text with surname characters in it: no rule may find a name here
MEDICAL = ["予白芍15g、黄芪30g煎服。", "史密斯骨折术后复查。", "高血压病史10年。", "MRI示腰椎间盘突出。",
           "白术12g，茯苓15g。", "患者神志清，精神可。", "何时出现症状不详。", "方可出院。", "陈述胸痛3天。",
           "于我院门诊复查。"]


_PARAM = type(pytest.param(None))


def _param(rule: str, case: object) -> object:
    """A case as a pytest param with the rule in front (keeping an xfail mark on it)."""
    if isinstance(case, _PARAM):  # (before the tuple test: a pytest param is a named tuple)
        return pytest.param(rule, *case.values, marks=case.marks, id=f"{rule}-{case.values[0]}")
    values = case if isinstance(case, tuple) else (case,)
    return pytest.param(rule, *values, id=f"{rule}-{values[0]}")


FIRES = [_param(rule, c) for rule, (fires, _) in RULE_CASES.items() for c in fires]
QUIET = [_param(rule, c) for rule, (_, quiet) in RULE_CASES.items() for c in quiet]


def _found(text: str) -> set[tuple[str, str]]:
    return {(text[s.start:s.end], s.source) for s in detect_names(text)}


def test_every_rule_has_cases() -> None:
    assert len(set(RULE_NAMES)) == len(RULE_NAMES)
    assert list(RULE_CASES) == list(RULE_NAMES)  # same order as they run
    for rule, (fires, quiet) in RULE_CASES.items():
        assert len(fires) >= 2 and quiet, rule


@pytest.mark.parametrize(("rule", "text", "name"), FIRES)
def test_rule_finds_the_name(rule: str, text: str, name: str) -> None:
    assert name in text
    assert (name, rule) in _found(text), _found(text)


@pytest.mark.parametrize(("rule", "text"), QUIET)
def test_rule_leaves_medical_words(rule: str, text: str) -> None:
    assert _found(text) == set()


@pytest.mark.parametrize("text", MEDICAL)
def test_medical_text_has_no_name(text: str) -> None:
    assert detect_names(text) == []


def test_every_span_names_its_rule() -> None:
    texts = [c.values[0] if isinstance(c, _PARAM) else c[0] for fires, _ in RULE_CASES.values() for c in fires]
    sources = {s.source for t in texts for s in detect_names(t)}
    assert sources == set(RULE_NAMES)


def test_rule_name_reaches_the_entities() -> None:
    """api.py keeps the part of `source` before any colon: a name's entity carries its rule (a name with a given
    name is propagated through its group and then carries `record`, so these have none)."""
    res = deidentify_texts(["张先生于今晨突发胸痛。", "李某某，女，33岁，孕2产1。"],
                           DeidConfig(keep_masked_names=False))
    assert [[e.source for e in r.entities if e.entity_type == "PERSON"] for r in res] == \
        [["surname_title"], ["surname_mou"]]


def test_masked_names_stay_unless_rare_or_the_patients_own() -> None:
    """A masked name with a common surname is already de-identified (kept by default); a rare or compound surname
    is not, nor is the record's own patient's masked name; keep_masked_names=False removes every one."""
    from cmedins.deid import GroupInfo, RecordValues

    texts = ["患者李某某，女，33岁。", "家属张XX陪护。", "同事訾某陪同。", "由欧阳某某送来。", "患者王某诉头痛。"]
    res = deidentify_texts(texts, DeidConfig(), group_info={4: GroupInfo(values=RecordValues(name="王建国"))})
    assert [r.text for r in res] == ["患者李某某，女，33岁。", "家属张XX陪护。", "同事[姓名]陪同。", "由[姓名]送来。",
                                     "患者[姓名]诉头痛。"]
    off = deidentify_texts(texts[:2], DeidConfig(keep_masked_names=False))
    assert [r.text for r in off] == ["患者[姓名]，女，33岁。", "家属[姓名]陪护。"]


def test_name_lists_are_documented_data() -> None:
    files = sorted(DATA_DIR.glob("name_*.txt"))
    assert len(files) >= 20
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# ") and len(first) > 20, path.name  # a header saying what the list is for
    names = lexicon().names
    assert {"其父", "配偶", "同事"} <= names.kinship and "主任医师" in names.care_roles
    assert all(len(w) == 2 for w in names.field_words)
    assert names.clause_verbs[:2] == ("自诉", "自述")


def test_character_lists_reject_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "chars.txt").write_text("# header\n因\n因为\n", encoding="utf-8")
    (tmp_path / "pairs.txt").write_text("# header\n性别\n年\n", encoding="utf-8")
    monkeypatch.setattr(lexicon_module, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError, match="因为"):
        lexicon_module._chars("chars.txt")
    with pytest.raises(ValueError, match="年"):
        lexicon_module._sized("pairs.txt", 2)


@pytest.mark.parametrize(("text", "names"), [
    ("参加人员：文静、常青、赵建华主任、黎梦瑶护士", {"文静", "常青"}),  # found by their titles, then the rest
    ("作者：冉思远1，甘露2，蔺志强医生1", {"冉思远", "甘露"}),  # affiliation digits stripped
    ("经研究决定，表彰文静、常青、赵建华主任", {"文静", "常青"}),  # the clause before the list is no item of it
])
def test_a_list_holding_a_found_name_gives_its_other_names(text: str, names: set[str]) -> None:
    res = deidentify_texts([text], DeidConfig())[0]
    persons = {text[e.start:e.end]: e.source for e in res.entities if e.entity_type == "PERSON"}
    assert names <= set(persons) and "name_list" in persons.values(), persons


def test_a_list_mostly_of_found_names_takes_its_word_items_too() -> None:
    """Two or more found names, half the list or more: the other items are names even when they are words."""
    text = "获奖名单：焦建军主任、庄严、贺兰芳主任"
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert "庄严" not in res.text, res.text


@pytest.mark.parametrize("text", [
    "患者张建国医生、高血压、糖尿病史。",  # the other items are diseases, not names
    "王建华医生：头痛、发热、咳嗽。",  # a list after the name, not with it
    "李明主任，男，高血压病史10年。",  # a name and a clause, no list of names
])
def test_a_found_name_does_not_make_its_neighbours_names(text: str) -> None:
    res = deidentify_texts([text], DeidConfig())[0]
    assert [e.source for e in res.entities if e.source == "name_list"] == []


@pytest.mark.parametrize(("text", "names"), [
    ("早班：庞悦 童心 柏松\n晚班：冼梦 陈光", {"童心"}),  # a roster line: 童心 is a word, the line says a name
    ("08:10|龚晓东|血糖|7.2\n08:25|和煦|血压|132/80\n09:00|卢平安|血糖|6.1", {"和煦"}),  # a table's column
    ("主刀：龚晓东　洗手：和煦", {"和煦"}),  # a sign-off line of label：value pairs
    ("执笔：龚晓东 / 和煦", {"和煦"}),  # a roster with slashes
    ("优秀护士：龚晓东（内科）、和煦（外科）", {"和煦"}),  # names with their affiliation in brackets
])
def test_a_roster_line_or_a_table_column_holding_a_found_name_gives_its_other_names(text: str, names: set[str]) -> None:
    res = deidentify_texts([text], DeidConfig(ner=True))[0]
    persons = {text[e.start:e.end]: e.source for e in res.entities if e.entity_type == "PERSON"}
    assert {n: "name_list" for n in names}.items() <= persons.items(), persons


@pytest.mark.parametrize("text", [
    "08:10|胰岛素|皮下|8U\n08:25|龚晓东|口服|1片\n09:00|阿司匹林|口服|1片",  # a column with drugs holds no names
    "08:10|胰岛素|皮下|8U\n08:25|龚晓东|口服|1片\n09:00|甘精|皮下|10U",
    "主刀：龚晓东　出血：少量　切口：甘好",  # a line of label：value pairs with a value that is no name
    "主刀：龚晓东　检验：阳性",  # a value that is surname-first, but a word
])
def test_a_table_column_holding_a_medical_word_is_no_list_of_names(text: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=True))[0]
    assert [text[e.start:e.end] for e in res.entities if e.entity_type == "PERSON"] == ["龚晓东"]


def test_the_speakers_of_a_chat_where_someone_speaks_twice_are_names() -> None:
    """A family chat names its speakers by given names only; a speaker speaking twice makes it a chat, and the
    labels that read as given names go. A record's section headings (one each) and role labels stay."""
    chat = "海涛：爸的片子出来了吗\n丽娟：出来了，说没事\n海涛：那就好\n医生：按时吃药"
    assert deidentify_texts([chat], DeidConfig(ner=False))[0].text == \
        "[姓名]：爸的片子出来了吗\n[姓名]：出来了，说没事\n[姓名]：那就好\n医生：按时吃药"
    record = "主诉：咳嗽1周\n现病史：无发热\n诊断：上感\n医嘱：多饮水"
    assert deidentify_texts([record], DeidConfig(ner=False))[0].text == record
    forecast = "北京：晴\n上海：多云\n北京：明天有雨"  # labels that repeat but read as no given name
    assert deidentify_texts([forecast], DeidConfig(ner=False))[0].text == forecast


def test_speakers_of_a_chat_are_names_once_one_of_them_is() -> None:
    """The model finds 宋晓梅 as a line's speaker; the other speaker, 文静 (also a word), follows from it; field
    labels (主诉：) and role labels (医生：) stay."""
    text = "宋晓梅：谁看到我的听诊器了？\n文静：在护士站，我刚看到。\n医生：好的\n主诉：无"
    res = deidentify_texts([text], DeidConfig(ner=True))[0]
    assert res.text == "[姓名]：谁看到我的听诊器了？\n[姓名]：在护士站，我刚看到。\n医生：好的\n主诉：无"
    alone = deidentify_texts(["文静：在护士站，我刚看到。\n医生：好的"], DeidConfig(ner=True))[0]
    assert alone.entities == ()  # no speaker is a found name: nothing says 文静 is one


def test_the_first_character_lookahead_changes_no_match() -> None:
    """`lexicon.starts` only speeds an alternation up: the same matches with and without it, special characters
    (a dash, a bracket, a caret) included."""
    import re

    from cmedins.deid.lexicon import starts

    words = ["患者", "患儿", "-号", "]x", "^y", "主治医师", "主治"]
    text = "患者-号]x^y主治医师 主治 患儿患"
    bare = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    led = re.compile(starts(words) + "(?:" + bare.pattern + ")")
    assert [m.span() for m in led.finditer(text)] == [m.span() for m in bare.finditer(text)]
    assert len(list(led.finditer(text))) == 7


@pytest.mark.parametrize(("text", "name"), [
    ("复核药师：车\n发药时间：09:10", "车"),  # a surname alone fills the field to the line's end
    ("巡回护士：丁香　洗手护士：姜红", "丁香"),  # a herb's name, but jieba reads it as a person's: the field decides
    ("会诊：心内科\n值班医师：华山\n", "华山"),  # a place's name (and a hospital's) as a name, to the line's end
])
def test_a_role_field_filled_by_one_name_is_a_name_even_when_a_word(text: str, name: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert name not in res.text, res.text


@pytest.mark.parametrize("text", [
    "责任医师：高血压",  # a disease where a name should stand stays: jieba reads it as no name
    "执行护士：当归\n",  # a herb jieba reads as a herb
    "值班医生：同意",  # a verb
    "主治医师：于\n",  # a weak surname alone (于 is a preposition first)
    "医生：平卧，不要起身。",  # a dialogue's speaker label, then advice: the value does not fill the field
])
def test_a_role_field_keeps_a_medical_word_or_a_verb(text: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert res.text == text, res.text


@pytest.mark.parametrize(("text", "alias"), [
    ("联系人：患者女儿邱雅文（Wendy）", "Wendy"),  # an English name in brackets after a found name
    ("姓名：郑家豪（CHENG Ka Ho）", "CHENG Ka Ho"),  # a romanised name in capitals, three words
    ("患者之子聂远航（小名：豆包）陪同", "豆包"),  # a marked other name, a word
    ("同事Grace（林佩珊）帮忙叫了救护车", "Grace"),  # the Latin name before a bracket holding the found name
])
def test_the_other_name_in_brackets_of_a_found_name_is_a_name(text: str, alias: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=True))[0]
    assert alias not in res.text, res.text


@pytest.mark.parametrize("text", [
    "患者蔡文博（ICU）转入",  # an acronym: the ward, no name
    "患者蔡文博（内科）",  # a department in brackets
])
def test_a_bracket_after_a_name_holding_no_name_stays(text: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=True))[0]
    assert text.split("（")[1] in res.text, res.text


@pytest.mark.parametrize(("text", "name"), [
    ("孩子妈妈柴晓燕在外地上班，由奶奶带", "柴晓燕"),  # colloquial kinship words are kinship words
    ("男朋友鲁一鸣陪同就诊", "鲁一鸣"),
    ("邻床的老蔡吧，昨晚一直咳", "老蔡"),  # 老 + surname before a particle of speech
    ("护工小滕和家属都在", "小滕"),  # and before a conjunction
    ("陪护：艾合买提·吐逊，患者之子", "艾合买提·吐逊"),  # a name with an interpunct, alone between delimiters
    ("丈夫伊力哈木·托乎提陪同", "伊力哈木·托乎提"),  # minority name parts joined by an interpunct
    ("她一直念叨女儿“慧敏”什么时候来", "慧敏"),  # a quoted given name after a kinship word
    ("病友们，祝大家早日康复！——秋菊\n", "秋菊"),  # a signature after a dash, ending the line
])
def test_colloquial_and_written_name_forms(text: str, name: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert name not in res.text, res.text


@pytest.mark.parametrize("text", [
    "方剂出自《金匮要略·血痹虚劳病脉证并治》。",  # a book's chapter in brackets
    "典出伤寒杂病论·辨脉法，",  # a chapter without brackets: a first part too long for a name
    "我妈妈高血压十年了",  # a kinship word before a disease
    "爸爸高兴地说可以出院了",  # a colloquial kinship word before an adverb: no name slot
    "妈妈都来了，孩子不哭了",
    "大小便正常，小时候体健",  # 小 + a character that makes a word
    "全文完——转载",  # a dash before a word, no signature
    "他总说“没事”就好",  # a quoted phrase, no name
])
def test_colloquial_forms_leave_words(text: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert res.text == text, res.text


def test_a_column_headed_by_a_name_label_holds_names() -> None:
    """A plain-text table (cells between full-width spaces) with a 姓名 or 访客 column: every cell there is a name,
    a word (金星), a transliterated name (玛依拉) or not; the other columns and the header stay."""
    text = "床号　姓名　诊断\n3　金星　肺炎\n5　玛依拉　哮喘\n\n日期　访客　关系\n05-02　柏杨　外甥"
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert all(n not in res.text for n in ("金星", "玛依拉", "柏杨")), res.text
    assert all(w in res.text for w in ("姓名", "肺炎", "哮喘", "外甥", "访客")), res.text


@pytest.mark.parametrize("text", [
    "两种病变可单独出现，也可两者都有。",  # 者 + an adverb + a verb: no functionary and a name
    "后者常伴发于慢性肝病。",
    "对可疑者应复查头颅CT。",
    "患者曾就诊于外院，诊断不详。",
    "触及一花生米大小结节。",  # 花生 ends in 生 and names no person
    "成年患者（孕妇除外）可口服。",  # a condition in brackets after a label
    "遇到此类情况应请医生评估。",  # an adverb and a verb before a title
    "平时多和家人谈谈心。",  # an idiom after a kinship word, closed by the sentence end
])
def test_clauses_after_role_and_kinship_words_are_no_names(text: str) -> None:
    res = deidentify_texts([text], DeidConfig(ner=False))[0]
    assert res.text == text, res.text


def test_a_clinic_named_after_a_word_name_keeps_its_name_despite_the_adverb_check() -> None:
    """至高兴副主任医师门诊: 高 is an adverb surname and 兴 a verb, but a clinic after 至 names its doctor."""
    text = "出院后至高兴副主任医师门诊复诊。"
    assert "高兴" not in deidentify_texts([text], DeidConfig(ner=False))[0].text
