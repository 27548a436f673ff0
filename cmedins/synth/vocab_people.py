# ruff: noqa: E501 - vocabulary tables; CJK characters count double width and rows read better unwrapped
"""Name material written for this package: surnames (common, compound, rare), given-name characters, titles.

Kept separate from anything in `cmedins.deid` on purpose: a detector built from these lists would score itself.
"""

from __future__ import annotations

COMMON_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "上官",
    "诸葛",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "端木",
    "呼延",
    "独孤",
    "南宫",
    "闻人",
    "澹台",
    "百里",
    "东郭",
    "万俟",
    "单于",
)
RARE_SURNAMES = "禤亓仉訾晏冼麦佘殳牟芮逯蒯郗缑笪琚庹仝厍禚籍扈隗揭粟宓阙嵇乜"

MALE_CHARS = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘"
FEMALE_CHARS = "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
# Two-character given names typical of older generations (建国, 淑珍) that read like ordinary words.
ERA_NAMES = (
    "建国",
    "建军",
    "国庆",
    "卫东",
    "红梅",
    "桂英",
    "淑珍",
    "秀兰",
    "玉兰",
    "志强",
    "永红",
    "爱华",
    "援朝",
    "解放",
    "跃进",
    "文革",
    "向阳",
    "胜利",
    "学军",
    "抗美",
    "凤英",
    "桂兰",
    "秀英",
    "春花",
    "德华",
    "金凤",
    "玉珍",
    "美华",
)

STAFF_TITLES = ("主任", "教授", "医师", "主治医师", "副主任医师", "住院医师", "护士长", "护士", "院长", "老师")
