"""Generated medical consultations for the offline default build: single-turn (ChatMed shape) and multi-turn
(CMtMedQA shape).

Why generate instead of shipping a sample: the public consult datasets are research-only or unlicensed, so the
package writes its own small corpus from the condition table below (written for this package, not taken from any
dataset). The answers give cautious, generic advice of the kind a triage nurse would (see a doctor, which
department, which checks, lifestyle), never a dose. A few patient turns carry fake identifiers in the forms
online consultations leak them (a mobile number, a labelled name, an address with a house number, a full date)
so the default build exercises the residual-identifier scan and the de-identifier on the way into the mixture; a
few chronic-care follow-ups run past the 4096-token budget so the turn-boundary split runs too.

Output is a pure function of (rows, seed): `random.Random(seed)` drives every choice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cmedins.sources.embedded import unique_draws


@dataclass(frozen=True)
class Condition:
    """One complaint pattern: how a patient describes it and what a cautious doctor answers."""

    name: str
    department: str
    patient: str  # adult | child | female
    symptoms: tuple[str, ...]
    follow_up: str  # the doctor's first question back
    answers: tuple[str, ...]  # what the patient answers to it
    analysis: str
    checks: tuple[str, ...]
    treatment: tuple[str, ...]
    lifestyle: tuple[str, ...]
    warning: str
    chronic: bool = False


CONDITIONS: tuple[Condition, ...] = (
    Condition("上呼吸道感染", "呼吸内科", "adult", ("鼻塞", "流清鼻涕", "嗓子疼", "低烧37.8度左右", "浑身酸痛"),
              "请问体温最高到多少度？有没有咳嗽、咳痰？",
              ("最高38度，有点干咳，没有痰。", "体温没超过38度，偶尔咳两声。"),
              "从症状看，普通感冒（上呼吸道感染）的可能性比较大，多数由病毒引起，一般一周左右可以自愈",
              ("血常规", "必要时查C反应蛋白"),
              ("多休息、多喝温水", "体温超过38.5度时可在医生或药师指导下使用退热药", "鼻塞明显可用生理盐水冲洗鼻腔",
               "病毒感染一般不需要抗生素，不要自行服用"),
              ("保证睡眠", "饮食清淡", "勤洗手、咳嗽时遮挡口鼻", "室内定时通风"),
              "高烧持续三天不退、呼吸困难或胸痛"),
    Condition("急性胃肠炎", "消化内科", "adult", ("拉肚子一天五六次", "恶心想吐", "肚子一阵阵绞痛", "没什么胃口"),
              "发病前有没有吃过不洁净或者隔夜的食物？大便里有没有血或者黏液？",
              ("前天晚上吃了烧烤，大便是水样的，没看到血。", "吃了冰箱里放了两天的剩菜，大便稀，没有血。"),
              "结合饮食情况，考虑急性胃肠炎可能性大，关键是防止脱水",
              ("大便常规", "血常规", "必要时查电解质"),
              ("少量多次补充口服补液盐", "暂时吃清淡好消化的流质或半流质食物", "止泻药和抗生素要在医生评估后再用"),
              ("注意饮食卫生", "生熟分开", "剩饭剩菜充分加热后再吃"),
              "大便带血、持续高烧、尿量明显减少或精神很差"),
    Condition("高血压", "心血管内科", "adult", ("经常头晕", "后脑勺发胀", "量血压150/95左右", "睡眠不好"),
              "血压是什么时候开始高的？平时有没有规律测量？家里人有高血压吗？",
              ("体检发现的，有半年了，没怎么测，我父亲也有高血压。", "最近一个月才发现，家里测过几次都在150左右。"),
              "多次测量血压都偏高，需要考虑高血压，先要明确是不是原发性的，并评估心、脑、肾等靶器官",
              ("24小时动态血压", "血脂、血糖、肾功能", "心电图", "心脏彩超"),
              ("是否用药、用哪种降压药要由心内科医生根据评估决定", "开始服药后不要自行停药或随意减量",
               "每天早晚固定时间测血压并记录"),
              ("低盐饮食，每天食盐不超过5克", "控制体重", "戒烟限酒", "每周进行中等强度有氧运动"),
              "血压超过180/110、剧烈头痛、胸痛或一侧肢体无力", chronic=True),
    Condition("2型糖尿病", "内分泌科", "adult", ("口渴喝水多", "夜里起来小便好几次", "体重两个月掉了5斤", "容易累"),
              "最近有没有测过血糖？空腹大概多少？",
              ("社区测过空腹血糖，8.2。", "体检空腹血糖7.9，医生让我复查。"),
              "多饮、多尿、体重下降加上空腹血糖偏高，需要警惕糖尿病，要复查确认",
              ("空腹和餐后2小时血糖", "糖化血红蛋白", "尿常规", "眼底检查"),
              ("确诊后由内分泌科医生制定降糖方案", "按医嘱用药，不要自行换药停药", "学会自我监测血糖"),
              ("控制主食总量，少吃甜食和含糖饮料", "饭后适当散步", "注意足部护理"),
              "心慌出汗手抖等低血糖表现，或者恶心呕吐、呼吸有烂苹果味", chronic=True),
    Condition("湿疹", "皮肤科", "adult", ("手背起红疹子", "特别痒晚上睡不着", "抓破了有点渗液", "好了又反复起"),
              "皮疹大概长在哪些部位？平时接触洗洁精、消毒液这些多吗？",
              ("主要在手背和手指缝，每天洗碗。", "手腕和肘窝都有，做保洁经常碰消毒液。"),
              "从描述看比较像湿疹，和皮肤屏障受损、反复接触刺激物有关",
              ("皮肤科医生面诊查看皮损", "必要时做斑贴试验"),
              ("外用药膏要在皮肤科医生指导下使用", "渗液明显时先请医生处理", "瘙痒严重可咨询医生是否需要口服止痒药"),
              ("减少接触洗涤剂，做家务戴手套", "洗手后及时涂保湿霜", "避免搔抓和热水烫洗"),
              "皮疹大面积扩散、化脓或伴发热"),
    Condition("过敏性鼻炎", "耳鼻咽喉科", "adult", ("早上起来连打喷嚏", "鼻子痒", "流清水鼻涕", "眼睛也痒"),
              "这些症状是不是每年固定季节加重？家里有没有养宠物？",
              ("每年春天都这样，家里养了猫。", "换季就犯，天气冷了更明显。"),
              "季节性发作的喷嚏、鼻痒、清涕，过敏性鼻炎的可能性较大",
              ("过敏原检测", "鼻内镜检查"),
              ("鼻喷激素和抗组胺药需要按医生指导规律使用", "症状控制后不要马上自行停药"),
              ("尽量避开过敏原", "花粉季外出戴口罩", "经常清洗床品、减少室内尘螨"),
              "喘息、胸闷等哮喘表现"),
    Condition("腰椎间盘突出症", "骨科", "adult", ("腰疼", "右腿后侧发麻", "弯腰时疼得更厉害", "坐久了站不起来"),
              "腿麻是一直到脚吗？有没有大小便异常？",
              ("麻到小腿外侧，大小便正常。", "一直麻到脚背，大小便没问题。"),
              "腰痛伴有下肢放射痛和麻木，要考虑腰椎间盘突出压迫神经",
              ("腰椎磁共振", "必要时做肌电图"),
              ("急性期以休息为主，避免弯腰搬重物", "疼痛明显时可在医生指导下使用止痛药",
               "症状缓解后在康复科指导下做腰背肌锻炼"),
              ("避免久坐，每坐一小时起来活动", "睡硬一点的床垫", "搬东西时先下蹲再抬起"),
              "大小便失禁、会阴部麻木或腿越来越没力气"),
    Condition("失眠", "神经内科", "adult", ("晚上翻来覆去睡不着", "凌晨三四点就醒", "白天没精神", "记性变差"),
              "失眠有多长时间了？最近工作或生活压力大吗？",
              ("快两个月了，最近换了工作压力挺大。", "半年多了，家里有事一直心烦。"),
              "入睡困难和早醒持续一段时间，属于慢性失眠的表现，和压力、情绪关系较大",
              ("睡眠评估量表", "必要时做多导睡眠监测"),
              ("首选失眠的认知行为治疗", "安眠药有依赖风险，需要医生评估后短期使用"),
              ("固定时间起床", "睡前一小时不看手机", "下午以后不喝咖啡和浓茶", "白天适量运动"),
              "情绪持续低落、有伤害自己的想法"),
    Condition("缺铁性贫血", "血液科", "female", ("总觉得乏力", "脸色发白", "爬楼梯就心慌气短", "指甲容易断"),
              "月经量多吗？平时吃肉多不多？有没有黑便？",
              ("月经量比较多，每次要七八天，不太吃肉。", "经期一直偏长，吃素好几年了，大便颜色正常。"),
              "乏力、面色苍白结合月经量多，要考虑缺铁性贫血，关键是找到失血或缺铁的原因",
              ("血常规", "铁蛋白和血清铁", "妇科B超"),
              ("确诊后在医生指导下补充铁剂并定期复查", "同时处理月经量多等病因"),
              ("多吃红肉、动物肝脏等含铁丰富的食物", "补铁时配合富含维生素C的水果", "不要和浓茶同服"),
              "黑便、呕血或头晕晕倒"),
    Condition("尿路感染", "泌尿外科", "female", ("小便次数多", "尿急", "尿的时候刺痛", "小肚子坠胀"),
              "有没有发烧或者腰疼？尿的颜色有变化吗？",
              ("没发烧，腰不疼，尿有点发黄。", "没有发热，尿有点浑浊。"),
              "尿频、尿急、尿痛是典型的下尿路感染表现",
              ("尿常规", "必要时做尿培养"),
              ("是否需要抗生素、用哪种要由医生根据检查决定", "按疗程用药，不要症状一好就停"),
              ("多喝水、勤排尿", "不要憋尿", "注意会阴部清洁"),
              "发热寒战、腰部疼痛或尿中带血"),
    Condition("小儿发热", "儿科", "child", ("发烧38.9度", "有点流鼻涕", "精神还可以", "胃口比平时差"),
              "孩子发烧几天了？精神状态怎么样？有没有抽搐、皮疹？",
              ("烧了一天半，退烧后还能玩，没有抽搐。", "第二天了，退烧时精神不错，身上没有疹子。"),
              "孩子退热后精神好，多数是病毒感染引起的发热，但要密切观察",
              ("血常规", "必要时查C反应蛋白"),
              ("体温超过38.5度或明显不舒服时，可按体重使用儿童退热药，具体剂量请遵医嘱或看说明书",
               "不要给孩子用酒精擦浴", "两种退烧药不要自行交替使用"),
              ("多喂水", "衣服穿得宽松透气", "注意观察尿量"),
              "精神萎靡、抽搐、呼吸急促、持续高热超过三天或3个月以下婴儿发热"),
    Condition("月经不调", "妇科", "female", ("月经推迟了半个月", "量比以前少", "周期很乱", "经前乳房胀痛"),
              "平时月经周期多少天？有没有性生活？最近体重有明显变化吗？",
              ("以前30天左右，有性生活，测过没有怀孕。", "以前很准，最近半年胖了10斤。"),
              "月经周期紊乱的原因很多，先要排除怀孕，再看激素水平和卵巢情况",
              ("尿或血HCG", "性激素六项", "妇科B超", "甲状腺功能"),
              ("明确原因后由妇科医生决定是否需要调经治疗", "不要自行服用激素类药物"),
              ("记录月经日历", "规律作息", "保持体重稳定"),
              "阴道大量出血或剧烈腹痛"),
    Condition("慢性咽炎", "耳鼻咽喉科", "adult", ("嗓子老觉得有东西", "早上刷牙干呕", "嗓子干痒", "清嗓子"),
              "有抽烟喝酒的习惯吗？平时说话多吗？",
              ("抽烟十几年了，一天一包。", "我是老师，每天讲课好几个小时。"),
              "咽部异物感、干痒、刷牙恶心，比较符合慢性咽炎",
              ("耳鼻喉科检查咽喉", "必要时做喉镜"),
              ("对症含片可短期使用", "合并反流的要一起治疗"),
              ("戒烟限酒", "少吃辛辣刺激食物", "多喝水、用嗓适度"),
              "吞咽困难、声音嘶哑超过两周或痰中带血"),
    Condition("胃食管反流病", "消化内科", "adult", ("胸口烧得慌", "反酸水", "吃完饭躺下更难受", "嗓子有点哑"),
              "这些症状多长时间了？晚饭一般几点吃？",
              ("半年多了，晚上加班经常九点多才吃饭。", "三个多月了，晚饭吃完就躺下。"),
              "烧心、反酸、饭后平卧加重，比较符合胃食管反流",
              ("胃镜检查", "必要时做食管pH监测"),
              ("抑酸药物需要在消化科医生指导下按疗程使用", "症状反复要复诊调整方案"),
              ("少食多餐", "睡前3小时不再进食", "睡觉时把床头抬高", "减少浓茶咖啡和油腻食物"),
              "吞咽困难、体重明显下降或呕血黑便"),
    Condition("偏头痛", "神经内科", "adult", ("一侧太阳穴一跳一跳地疼", "怕光怕吵", "疼起来想吐", "一次疼大半天"),
              "头痛一般多久发作一次？发作前有没有眼前闪光之类的先兆？",
              ("一个月两三次，发作前眼前有亮点。", "差不多每周一次，没有什么先兆。"),
              "反复发作的单侧搏动性头痛伴怕光、恶心，偏头痛的可能性大",
              ("神经内科面诊", "必要时做头颅磁共振排除其他原因"),
              ("发作期用药要在医生指导下选择", "发作频繁的可以考虑预防性治疗"),
              ("记录头痛日记找诱因", "规律作息", "避免熬夜和饮酒"),
              "突发剧烈头痛、伴肢体无力或说话不清"),
    Condition("痛风", "风湿免疫科", "adult", ("大脚趾突然红肿", "疼得不能走路", "晚上疼醒", "摸着发烫"),
              "发作前有没有喝酒或者吃海鲜？以前查过尿酸吗？",
              ("前一天晚上喝了啤酒吃了海鲜，尿酸以前查过是520。", "聚餐喝了不少酒，之前体检说尿酸高。"),
              "第一跖趾关节突发红肿热痛，加上尿酸高和饮酒诱因，痛风急性发作的可能性大",
              ("血尿酸", "关节超声", "肾功能"),
              ("急性期的止痛方案要由医生决定", "降尿酸治疗一般在急性期过后开始并长期坚持"),
              ("多喝水", "戒酒，尤其是啤酒", "少吃动物内脏、海鲜和浓肉汤"),
              "发热、多个关节同时肿痛"),
    Condition("颈椎病", "骨科", "adult", ("脖子僵硬酸痛", "肩膀发沉", "手指有时发麻", "低头久了头晕"),
              "平时低头看手机、电脑的时间长吗？手麻是一侧还是两侧？",
              ("每天对着电脑十个小时，右手麻。", "经常低头玩手机，两只手都有点麻。"),
              "长期低头伴颈肩痛和手麻，要考虑颈椎病，手麻提示可能有神经根受压",
              ("颈椎X线", "必要时做颈椎磁共振"),
              ("急性疼痛期可在医生指导下理疗或用药", "不要随便找人大力按摩或扳脖子"),
              ("每工作一小时活动颈部", "显示器调到与视线平齐", "枕头高度适中"),
              "走路不稳、双手无力或大小便异常"),
    Condition("甲状腺结节", "甲状腺外科", "adult", ("体检发现甲状腺结节", "脖子没什么感觉", "有点担心是不是癌"),
              "超声报告上结节多大？TI-RADS分级是几类？",
              ("报告写的8毫米，3类。", "大概1厘米，报告写4a类。"),
              "甲状腺结节很常见，大多数是良性的，是否需要进一步处理主要看超声分级和大小",
              ("甲状腺超声复查", "甲状腺功能", "分级较高时做细针穿刺"),
              ("低风险结节一般定期复查即可", "是否穿刺或手术由专科医生根据分级决定"),
              ("保持正常作息", "不用刻意忌口碘盐，具体遵医嘱"),
              "结节短期明显长大、声音嘶哑或颈部淋巴结肿大"),
    Condition("支气管哮喘", "呼吸内科", "adult", ("晚上咳嗽", "胸口发闷", "喘气有哨音", "闻到油烟就喘"),
              "小时候有没有哮喘或者湿疹？这次喘多久了？",
              ("小时候有过湿疹，这次喘了一周。", "小时候有哮喘，长大后好多年没犯了。"),
              "发作性喘息、胸闷、夜间咳嗽，遇刺激加重，要考虑支气管哮喘",
              ("肺功能和支气管舒张试验", "呼出气一氧化氮检测"),
              ("吸入药物要在医生指导下规律使用", "学会正确的吸入方法", "随身携带急救用的吸入剂"),
              ("避开烟雾、冷空气等诱因", "戒烟", "适度运动"),
              "说话不能成句、嘴唇发紫或急救吸入剂无效"),
    Condition("荨麻疹", "皮肤科", "adult", ("身上起了一片片的风团", "很痒", "几个小时就消了又起", "晚上更重"),
              "起疹子前吃过什么特别的东西或用过新药吗？",
              ("吃了一顿小龙虾。", "前两天感冒吃了点药。"),
              "风团此起彼伏、几小时内消退，符合荨麻疹表现，需要找找诱因",
              ("皮肤科面诊", "必要时查血常规和过敏原"),
              ("抗过敏药物请在医生指导下使用", "可疑的诱发食物或药物先停掉"),
              ("避免搔抓和热水烫洗", "穿宽松棉质衣物", "记录饮食和发作情况"),
              "嗓子发紧、呼吸困难、嘴唇或眼睑肿胀"),
    Condition("焦虑状态", "精神心理科", "adult", ("心里一直发慌", "坐立不安", "总担心会出什么事", "手心出汗"),
              "这种状态持续多久了？有没有影响到工作和睡眠？",
              ("快三个月了，晚上睡不好，上班也集中不了注意力。", "两个多月，最近经常请假。"),
              "持续的紧张担心伴心慌出汗，已经影响生活，需要评估是否存在焦虑障碍",
              ("精神心理科面诊和量表评估", "甲状腺功能排除躯体原因"),
              ("心理治疗对焦虑很有帮助", "是否需要药物由专科医生评估"),
              ("规律运动", "练习腹式呼吸等放松方法", "和家人朋友多交流"),
              "伤害自己的念头"),
    Condition("龋齿", "口腔科", "adult", ("牙疼", "喝冷水时酸痛", "吃甜的更明显", "能看到牙上有黑洞"),
              "疼痛是一阵阵的还是持续的？晚上会不会疼醒？",
              ("碰到冷热才疼，晚上不疼。", "一阵一阵的，晚上没疼醒过。"),
              "遇冷热酸甜才痛、能看到黑洞，多是龋齿，还没有明显的牙髓炎表现",
              ("口腔科检查", "必要时拍牙片"),
              ("尽早补牙，拖延可能发展成牙髓炎", "止痛药只能临时缓解"),
              ("早晚刷牙、使用牙线", "少吃甜食和碳酸饮料", "每年做一次口腔检查"),
              "脸肿、发热或夜间剧烈疼痛"),
    Condition("急性结膜炎", "眼科", "adult", ("眼睛发红", "眼屎多", "早上起来眼睛睁不开", "有异物感"),
              "视力有没有下降？家里或单位有人眼睛也红吗？",
              ("视力没变化，同事前几天也红眼。", "看东西还清楚，孩子前两天也这样。"),
              "眼红、分泌物多且有接触史，考虑急性结膜炎，有传染性",
              ("眼科裂隙灯检查",),
              ("眼药水要在眼科医生指导下使用", "不要自行使用含激素的眼药水"),
              ("毛巾脸盆单独使用", "勤洗手、不揉眼", "暂停佩戴隐形眼镜"),
              "视力下降、眼痛明显或怕光流泪严重"),
    Condition("高脂血症", "心血管内科", "adult", ("体检说血脂高", "没什么不舒服", "平时应酬多"),
              "化验单上总胆固醇、低密度脂蛋白和甘油三酯分别是多少？",
              ("低密度脂蛋白4.1，甘油三酯2.6。", "总胆固醇6.5，低密度3.9。"),
              "血脂异常本身多数没有症状，但会增加动脉粥样硬化的风险，需要结合其他危险因素评估",
              ("血脂四项", "肝功能", "颈动脉超声"),
              ("是否需要降脂药由医生根据整体风险决定", "开始用药后定期复查血脂和肝功能"),
              ("减少油炸食物和动物脂肪", "多吃蔬菜和粗粮", "每周至少150分钟中等强度运动", "戒烟限酒"),
              "胸痛胸闷", chronic=True),
)

_OPENERS = ("", "医生你好，", "您好，", "医生，", "你好，", "请问一下，")
# (who, how later turns refer to them, youngest age, oldest age)
_SUBJECTS = {
    "adult": (("我", "我", 20, 75), ("我妈妈", "她", 45, 82), ("我爸爸", "他", 45, 82), ("我老公", "他", 25, 70),
              ("我爱人", "她", 25, 70), ("我哥", "他", 25, 60)),
    "female": (("我", "我", 18, 48), ("我老婆", "她", 22, 48), ("我女儿", "她", 15, 28), ("我姐姐", "她", 22, 48)),
    "child": (("我家孩子", "孩子", 1, 10), ("宝宝", "宝宝", 1, 3), ("我儿子", "他", 2, 12), ("我女儿", "她", 2, 12)),
}
_DURATIONS = ("最近一周", "这两天", "三天前开始", "半个月来", "近一个月", "昨天开始", "这段时间")
_QUESTIONS = (
    ("cause", "请问这是怎么回事？"), ("cause", "严重吗？"), ("drug", "应该吃什么药？"), ("care", "平时要注意什么？"),
    ("dept", "该挂什么科？"), ("cause", "需要做什么检查？"), ("care", "饮食上要注意什么？"),
)
_CLOSINGS = ("祝您早日康复！", "有问题随时再来咨询。", "祝早日康复。")
_THANKS = ("好的，谢谢医生。", "明白了，非常感谢！", "知道了，谢谢您的耐心解答。")

# Fake identifiers in the forms consultations leak them; the residual scan flags each of these forms.
_SURNAMES = ("赵", "钱", "孙", "周", "吴", "郑", "冯", "陈", "褚", "卫", "蒋", "沈", "韩", "杨")
_GIVEN = ("建国", "秀英", "志强", "丽娟", "海燕", "俊杰", "春梅", "国华", "晓东", "桂兰")
_CITIES = (("杭州市", "西湖区"), ("成都市", "武侯区"), ("武汉市", "洪山区"), ("西安市", "雁塔区"), ("长沙市", "岳麓区"))
_ROADS = ("文化路", "建设路", "人民路", "解放路", "和平路")


def _identifier(rng: random.Random) -> str:
    """One leaked identifier sentence (fake values)."""
    kind = rng.randrange(4)
    if kind == 0:
        return f"我的手机号是1{rng.choice('3578')}{rng.randrange(10**9):09d}，方便的话打电话给我。"
    if kind == 1:
        return f"患者姓名：{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}。"
    if kind == 2:
        city, district = rng.choice(_CITIES)
        return f"我住{city}{district}{rng.choice(_ROADS)}{rng.randint(1, 300)}号。"
    return f"{rng.randint(2019, 2023)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日在社区医院看过一次。"


def _complaint(rng: random.Random, c: Condition, leak: bool) -> tuple[str, str]:
    """The patient's opening message (without a question) and how later turns refer to the patient."""
    subject, pronoun, youngest, oldest = rng.choice(_SUBJECTS[c.patient])
    age = rng.randint(youngest, oldest)
    n = min(len(c.symptoms), rng.randint(2, 3))
    picked = [0, *sorted(rng.sample(range(1, len(c.symptoms)), n - 1))]  # the main complaint always first
    symptoms = "，".join(c.symptoms[i] for i in picked)
    text = f"{rng.choice(_OPENERS)}{subject}{age}岁，{rng.choice(_DURATIONS)}{symptoms}。"
    if leak:
        text += _identifier(rng)
    return text, pronoun


def _numbered(items: tuple[str, ...] | list[str]) -> str:
    return "\n".join(f"{i}. {item}。" for i, item in enumerate(items, 1))


def _answer(rng: random.Random, c: Condition, kind: str) -> str:
    """A ChatMed-style answer: analysis, the part the question asked for, and when to go to hospital at once."""
    parts = [f"{'' if c.analysis.startswith(('从', '结合')) else '根据您的描述，'}{c.analysis}。"]
    if kind == "dept":
        parts.append(f"建议到医院{c.department}就诊，医生可能会安排：{'、'.join(c.checks)}。")
    elif kind == "drug":
        parts.append("具体用药需要医生面诊后决定，不建议自行购药。一般的处理原则是：\n" + _numbered(c.treatment))
    elif kind == "care":
        parts.append("日常可以注意以下几点：\n" + _numbered(c.lifestyle))
    else:
        parts.append(f"建议到{c.department}就诊，完善{'、'.join(c.checks)}等检查，明确原因后再针对性处理。")
        parts.append("在此期间可以：\n" + _numbered(rng.sample(c.lifestyle, min(2, len(c.lifestyle)))))
    parts.append(f"如果出现{c.warning}，请立即就医。")
    return "\n\n".join(parts)


def chatmed_rows(rows: int, seed: int, leak_rate: float = 0.04) -> list[dict]:
    """Single-turn consultations as ChatMed publishes them: `{query, response}` per line."""
    rng = random.Random(seed)

    def draw() -> dict:
        c = rng.choice(CONDITIONS)
        text, _ = _complaint(rng, c, rng.random() < leak_rate)
        kind, question = rng.choice(_QUESTIONS)
        return {"query": text + question, "response": _answer(rng, c, kind)}

    return unique_draws(draw, rows)


def _turns(rng: random.Random, c: Condition, leak: bool) -> list[tuple[str, str]]:
    """A doctor-led consultation of 2 to 5 turns: complaint, follow-up, assessment, treatment, care, thanks."""
    text, pronoun = _complaint(rng, c, leak)
    comfort = rng.choice(("别着急", "理解您的担心", "感谢您的信任"))
    turns = [(text + "这是怎么回事？", f"您好，{comfort}。{c.follow_up}")]
    turns.append((rng.choice(c.answers),
                  f"{c.analysis}。建议尽快到{c.department}就诊，完善{'、'.join(c.checks)}等检查。"))
    extra = [
        (rng.choice(("需要吃药吗？", "要怎么治疗？", f"{pronoun}需要用药吗？")),
         "治疗要在医生面诊后确定，一般原则是：\n" + _numbered(c.treatment)),
        (rng.choice(("平时生活中要注意些什么？", "饮食上有什么要注意的？", "在家能做些什么？")),
         "日常生活中建议：\n" + _numbered(c.lifestyle)),
        (rng.choice(_THANKS), f"不客气。如果出现{c.warning}，请马上去医院。{rng.choice(_CLOSINGS)}"),
    ]
    return turns + extra[: rng.randint(0, 3)]


def _long_follow_up(rng: random.Random, c: Condition, visits: int) -> list[tuple[str, str]]:
    """A chronic-care chat over many weeks of home readings: long enough to pass a 4096-token budget."""
    turns = _turns(rng, c, False)[:2]
    for week in range(1, visits + 1):
        if c.name == "高血压":
            morning = f"{rng.randint(128, 162)}/{rng.randint(78, 100)}"
            reading = f"早上{morning}，晚上{rng.randint(124, 155)}/{rng.randint(76, 96)}"
        elif c.name == "2型糖尿病":
            reading = f"空腹{rng.randint(58, 95) / 10:.1f}，餐后两小时{rng.randint(78, 140) / 10:.1f}"
        else:
            reading = f"复查结果和上次差不多，{rng.choice(c.symptoms)}偶尔还有"
        question = (f"医生，这是第{week}周的记录，{reading}。这周按您说的调整了饮食，"
                    f"也坚持每天快走半小时，但是{rng.choice(c.symptoms)}有时还会出现，需要调整吗？")
        answer = (f"从这一周的记录看，整体在逐步改善，但还没有完全达到理想范围。{c.analysis}，所以需要耐心坚持。"
                  f"请继续：\n{_numbered(c.lifestyle)}\n同时按医嘱规律复诊，带上这段时间的记录，"
                  f"由{c.department}医生判断是否需要调整治疗方案，不要自行加减药。如果出现{c.warning}，请立即就医。")
        turns.append((question, answer))
    return turns


def cmtmedqa_rows(rows: int, seed: int, leak_rate: float = 0.04, long_rate: float = 0.01) -> list[dict]:
    """Multi-turn consultations as CMtMedQA publishes them: the last turn in instruction/output, earlier turns in
    `history` as [user, assistant] pairs, the department in cate1/cate2."""
    rng = random.Random(seed)
    chronic = [c for c in CONDITIONS if c.chronic]

    def draw() -> tuple[Condition, list[tuple[str, str]]]:
        if rng.random() < long_rate:
            c = rng.choice(chronic)
            return c, _long_follow_up(rng, c, rng.randint(14, 18))
        c = rng.choice(CONDITIONS)
        return c, _turns(rng, c, rng.random() < leak_rate)

    out = []
    for i, (c, turns) in enumerate(unique_draws(draw, rows)):
        (last_q, last_a), history = turns[-1], [list(t) for t in turns[:-1]]
        out.append({"id": f"g{i + 1}", "cate1": c.department, "cate2": c.department, "instruction": last_q,
                    "input": "", "output": last_a, "history": history})
    return out
