"""Free-form clinical note snippets written by hand for these tests, in forms the synthetic generator never produces.

They stand in for the hidden held-out set: discharge summaries, nursing notes, outpatient notes, referral letters
and consent forms, with identifiers written the way real notes write them (李某某, 王老先生, 家属张XX, 京A·12345,
23年3月5日, 三月五日, QQ: 12345678 ...). Every identifier must disappear on bare text and every medical term
(drugs, herbs, eponyms, lab values, vitals, doses, anatomy) must survive unchanged.
"""

from __future__ import annotations

import pytest

from cmedins.deid import DeidConfig, deidentify_texts, scan_residual

# (note snippet, identifiers that must disappear, medical content that must survive)
NOTES: list[tuple[str, list[str], list[str]]] = [
    # discharge summaries
    ("出院小结：患者訾某某，男，67岁，因“反复胸闷5年，加重3天”于2023.3.5入院。", ["訾某某", "2023.3.5"],
     ["胸闷", "67岁"]),
    ("王老先生，82岁，既往高血压病史20年，规律服用氨氯地平5mg qd。", ["王老先生"], ["氨氯地平5mg", "高血压"]),
    ("陈姓患者，女，45岁，体检发现甲状腺结节，TSH 2.1 mIU/L。", ["陈姓"], ["甲状腺结节", "TSH 2.1 mIU/L"]),
    ("入院时间：23年3月5日，出院时间：23年3月19日，住院14天。", ["3月5日", "3月19日"], ["住院14天"]),
    ("患者三月五日起出现发热，体温最高39.2℃，伴寒战。", ["三月五日"], ["39.2℃", "寒战"]),
    ("病案号：0012345，床号：12床，主治医师：周卫东。", ["0012345", "周卫东"], ["床号：12床"]),  # beds stay
    ("出院诊断：1.冠状动脉粥样硬化性心脏病 2.2型糖尿病。出院带药：阿托伐他汀钙片20mg qn，二甲双胍0.5g tid。",
     [], ["冠状动脉粥样硬化性心脏病", "阿托伐他汀钙片20mg", "二甲双胍0.5g"]),
    ("出院医嘱：1周后至刘建华主任门诊复查血常规、肝功能。", ["刘建华"], ["血常规", "肝功能"]),
    ("患者由其子张国强陪同入院，病史由其子代诉，可靠。", ["张国强"], ["病史"]),
    ("由其妻刘芳陪同来诊。", ["刘芳"], ["来诊"]),
    ("由其夫赵刚及其女赵小红陪同。", ["赵刚", "赵小红"], []),
    ("爱人王丽萍体健，育有一子一女。", ["王丽萍"], ["体健"]),
    ("丈夫李建军，电话13800138000，为紧急联系人。", ["李建军", "13800138000"], []),
    # nursing notes
    ("护理记录：患者神志清，精神可，BP 135/85mmHg，P 78次/分，R 18次/分，T 36.6℃。记录者：何晓燕",
     ["何晓燕"], ["135/85mmHg", "78次/分", "36.6℃"]),
    ("22:00 巡视病房，患者安静入睡，家属张XX陪护。护士：孙丽", ["孙丽"], ["安静入睡", "张XX"]),
    ("遵医嘱予0.9%氯化钠注射液250ml+头孢曲松钠2.0g ivgtt qd，护士签名：郭敏", ["郭敏"],
     ["0.9%氯化钠注射液250ml", "头孢曲松钠2.0g"]),
    ("陪同人：马强（患者之子），联系电话：139-1234-5678", ["马强", "139-1234-5678"], []),
    ("家属：吴海燕（女儿）已知晓病情，签字同意。", ["吴海燕"], ["签字同意"]),
    # outpatient notes
    ("门诊病历 姓名：邓志刚 性别：男 年龄：52岁 就诊日期：2024/01/08 主诉：反复上腹痛2月。",
     ["邓志刚", "2024/01/08"], ["上腹痛", "52岁"]),
    ("张三诉头痛3天，无恶心呕吐，查体：颈软，克氏征阴性。", ["张三"], ["头痛", "克氏征阴性"]),
    ("刘梅因咳嗽咳痰1周来诊，听诊双肺可闻及湿啰音。", ["刘梅"], ["咳嗽咳痰", "湿啰音"]),
    ("黄建平自述近半年体重下降5kg，HbA1c 8.2%。", ["黄建平"], ["HbA1c 8.2%", "体重下降5kg"]),
    ("中药处方：黄芪30g 党参15g 白术12g 茯苓15g 甘草6g 当归10g 白芍12g，水煎服日一剂。", [],
     ["黄芪30g", "党参15g", "白术12g", "白芍12g", "当归10g"]),
    ("查体：Murphy征阳性，麦氏点压痛，Babinski征阴性，史密斯骨折术后。", [], ["Murphy征", "麦氏点", "史密斯骨折"]),
    ("QQ: 12345678，微信号 wxid_ab12cd，可通过微信发送检查报告。", ["12345678", "wxid_ab12cd"], ["检查报告"]),
    # referral letters
    ("转诊单：兹有我院患者钱文博，男，71岁，住址：广东省深圳市南山区粤海街道科技园社区科苑路15号3栋2单元1201室，"
     "因肺部阴影转贵院进一步诊治。", ["钱文博", "广东省深圳市南山区粤海街道科技园社区科苑路15号3栋2单元1201室"],
     ["肺部阴影"]),
    ("联系人：刘先生 138 0013 8000", ["刘先生", "138 0013 8000"], []),
    ("身份证：11010519491231002X，出生于1950年3月，汉族。", ["11010519491231002X", "1950年3月"], ["汉族"]),
    ("工作单位：XX市第一中学，职业：教师。", ["XX市第一中学"], ["教师"]),
    ("患者就职于某科技有限公司，长期久坐。", ["某科技有限公司"], ["长期久坐"]),
    ("车牌号：京A·12345，因交通事故致左股骨骨折。", ["A·12345"], ["左股骨骨折"]),
    ("护照号：E12345678，外籍华人，来华旅游期间发病。", ["E12345678"], ["发病"]),
    ("转出医院：仁和县人民医院 转诊医生：郑永红 电话：0851-86543210", ["郑永红", "0851-86543210", "仁和县人民医院"],
     []),
    ("致接诊医师：患者于2022年12月3日在我院行PCI术，术后服用氯吡格雷75mg qd。", ["3日"], ["氯吡格雷75mg", "PCI术"]),
    # consent forms
    ("知情同意书 患者姓名：林晓东 住院号：20230456 拟行手术：腹腔镜胆囊切除术 患方签字：林晓东 与患者关系：本人",
     ["林晓东", "20230456"], ["腹腔镜胆囊切除术"]),
    ("授权委托人：周明，与患者关系：父子，身份证号码：440301198001011234", ["周明", "440301198001011234"], []),
    ("谈话医师：孟凡宇 谈话时间：2023年7月1日10时", ["孟凡宇", "7月1日"], []),
    # mixed / family history / history taking
    ("家族史：父（张志强）因肝癌去世，母（李桂兰）健在，患高血压。", ["张志强", "李桂兰"], ["肝癌", "高血压"]),
    ("患者女儿王小燕诉患者近日记忆力下降。", ["王小燕"], ["记忆力下降"]),
    ("妻子：陈美玲，电话：186 1234 5678。", ["陈美玲", "186 1234 5678"], []),
    ("主任医师：胡志明 查房意见：继续目前抗感染治疗，复查降钙素原。", ["胡志明"], ["降钙素原", "抗感染治疗"]),
    ("由护士赵敏敏陪同行CT检查，途中生命体征平稳。", ["赵敏敏"], ["CT检查", "生命体征平稳"]),
    ("术者：欧阳建国，助手：司马文", ["欧阳建国", "司马文"], []),
    ("患者95岁高龄，肌酐156μmol/L，eGFR 32ml/min。", ["95岁"], ["肌酐156μmol/L", "eGFR 32ml/min"]),
    ("E-mail：li.ming@hospital.cn，IP 10.0.3.24", ["li.ming@hospital.cn", "10.0.3.24"], []),
    ("医保号：1100001234567890，自费比例20%。", ["1100001234567890"], ["20%"]),
    ("血常规：WBC 12.3×10^9/L，N 85%，Hb 102g/L，PLT 230×10^9/L。", [], ["WBC 12.3×10^9/L", "Hb 102g/L"]),
    ("患者刘某，男，39岁，于2021年就诊于北京协和医院。", ["北京协和医院"], ["39岁", "刘某"]),
    # relatives, escorts and clinicians with the surname 于 (also a preposition), and names opening a clause
    ("配偶于芳菲体健，由其子于东来陪同入院。", ["于芳菲", "于东来"], ["体健"]),
    ("出院后2周至于卫国主任医师门诊复查，宣教由于护士完成。", ["于卫国", "于护士"], ["复查"]),
    ("上级医师 于建设；记录者：于小溪", ["于建设", "于小溪"], []),
    ("家族史：父张志强已故，母李桂兰体健，兄（王大成）患糖尿病。", ["张志强", "李桂兰", "王大成"], ["糖尿病"]),
    ("患者家属（儿子）王强在场，患者之女李娜代诉病史。", ["王强", "李娜"], ["代诉病史"]),
    # form exports and half-masked values
    ("姓 名：李小龙 性 别：男 籍贯：湖南长沙 邮编：410011", ["李小龙", "湖南长沙", "410011"], []),
    ("手机：138****1234，身份证号：4401**********1234，年龄：98岁", ["138****1234", "1234，", "98"], []),
    ("Dr. Wang 查房后同意手术，Mr. Li 签字。", ["Wang", "Li "], ["同意手术"]),
    ("DOB 1959.12，生于黑龙江省哈尔滨市，出生于1950年3月", ["1959.12", "哈尔滨市", "1950年3月"], []),
    ("会诊医师：神经内科 高晓松副主任医师。诊断证明书 兹证明 郭德纲 同志于2023年3月1日住院。",
     ["高晓松", "郭德纲", "1日"], ["神经内科"]),
    ("患者由120送入，同行者为其同事孙悟空；患儿父亲王大伟，电话：13512345678。", ["孙悟空", "王大伟", "13512345678"],
     []),
    # medicines that begin with a surname character must survive
    ("予莫西沙星0.4g ivgtt qd，曲普瑞林3.75mg 皮下注射，王不留行10g、徐长卿15g、刘寄奴10g煎服。", [],
     ["莫西沙星0.4g", "曲普瑞林3.75mg", "王不留行10g", "徐长卿15g", "刘寄奴10g"]),
    ("查体：房室传导阻滞，墨菲征阳性，施万细胞瘤术后，常呈现间歇性发作，易执行康复计划。", [],
     ["房室传导阻滞", "施万细胞瘤", "常呈现", "易执行"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), NOTES, ids=[f"note{i}" for i in range(len(NOTES))])
def test_note_identifiers_gone_and_medical_kept(text: str, gone: list[str], kept: list[str]) -> None:
    out = deidentify_texts([text], DeidConfig(date_mode="year_month"))[0].text
    for value in gone:
        assert value not in out, f"identifier #{gone.index(value)} survived"
    for term in kept:
        assert term in out, f"medical term #{kept.index(term)} was damaged"


def test_notes_are_many_and_varied() -> None:
    assert len(NOTES) >= 40
    assert sum(1 for _, gone, _ in NOTES if not gone) >= 3  # identifier-free notes must come out unchanged


@pytest.mark.parametrize("text", [t for t, gone, _ in NOTES if not gone])
def test_identifier_free_notes_unchanged(text: str) -> None:
    assert deidentify_texts([text], DeidConfig())[0].text == text


def test_notes_leave_nothing_for_the_residual_scanner() -> None:
    outs = [r.text for r in deidentify_texts([t for t, _, _ in NOTES], DeidConfig())]
    kinds = sorted({f.kind for f in scan_residual(outs)})
    assert kinds == [], kinds
