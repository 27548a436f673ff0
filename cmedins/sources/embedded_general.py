"""Generated general-domain instruction data for the offline default build: chain-of-thought arithmetic (alpaca
shape), small Python programs (ShareGPT shape) and encyclopedic questions (Firefly shape).

Why: the paper mixes general data (CoT, code, wiki) into fine-tuning so the model keeps its general skills; the
public sets are large and variously licensed, so the default build writes its own. Every answer is computed or
checked here: the arithmetic is done by the generator, the programs are fixed texts that were run while writing
them, and the encyclopedic facts are a short table of well-established ones. Output is a pure function of
(rows, seed).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from cmedins.sources.embedded import unique_draws

# --- chain-of-thought arithmetic (alpaca: instruction / input / output) ----------------------------------------

_NAMES = ("小明", "小红", "小刚", "小丽", "小华", "小芳", "小军", "小燕")
_COT_SUFFIX = ("请一步一步地思考。", "请写出推理过程。", "请先分析再给出答案。", "")


def _shopping(rng: random.Random) -> tuple[str, str]:
    name, a, p, b, q = rng.choice(_NAMES), rng.randint(2, 9), rng.randint(2, 15), rng.randint(2, 9), rng.randint(3, 20)
    total = a * p + b * q
    return (f"{name}买了{a}支笔，每支{p}元，又买了{b}本笔记本，每本{q}元。{name}一共花了多少钱？",
            f"第一步，算笔的钱：{a}×{p}={a * p}元。\n第二步，算笔记本的钱：{b}×{q}={b * q}元。\n"
            f"第三步，相加：{a * p}+{b * q}={total}元。\n答案：{name}一共花了{total}元。")


def _change(rng: random.Random) -> tuple[str, str]:
    name, n, p = rng.choice(_NAMES), rng.randint(2, 6), rng.randint(3, 18)
    paid = ((n * p) // 50 + 1) * 50
    return (f"{name}买了{n}个文具盒，每个{p}元，付了{paid}元，应该找回多少钱？",
            f"先算总价：{n}×{p}={n * p}元。\n再算找零：{paid}-{n * p}={paid - n * p}元。\n"
            f"答案：应找回{paid - n * p}元。")


def _chickens(rng: random.Random) -> tuple[str, str]:
    chickens, rabbits = rng.randint(3, 30), rng.randint(3, 30)
    heads, legs = chickens + rabbits, 2 * chickens + 4 * rabbits
    return (f"笼子里有若干只鸡和兔，从上面数有{heads}个头，从下面数有{legs}只脚。鸡和兔各有多少只？",
            f"假设全部是鸡，则应有{heads}×2={2 * heads}只脚。\n实际多出{legs}-{2 * heads}={legs - 2 * heads}只脚。\n"
            f"每只兔比鸡多2只脚，所以兔有{legs - 2 * heads}÷2={rabbits}只。\n鸡有{heads}-{rabbits}={chickens}只。\n"
            f"答案：鸡{chickens}只，兔{rabbits}只。")


def _ages(rng: random.Random) -> tuple[str, str]:
    while True:  # father - son = (k - 1)(son + years): keep it a plausible 22 to 45 years
        son, years, k = rng.randint(3, 15), rng.randint(1, 12), rng.choice((2, 3))
        father = k * (son + years) - years
        if 22 <= father - son <= 45:
            break
    return (f"爸爸今年{father}岁，儿子今年{son}岁。几年后爸爸的年龄是儿子的{k}倍？",
            f"设x年后爸爸的年龄是儿子的{k}倍，则{father}+x={k}×({son}+x)。\n"
            f"展开得{father}+x={k * son}+{k}x，移项得{father}-{k * son}={k - 1}x。\n"
            f"所以x={father - k * son}÷{k - 1}={years}。\n答案：{years}年后。")


def _discount(rng: random.Random) -> tuple[str, str]:
    price, d, off = rng.randrange(100, 800, 20), rng.choice((7, 8, 9)), rng.randrange(10, 60, 10)
    after = price * d // 10
    return (f"一件外套原价{price}元，先打{d}折，再减{off}元，现在卖多少钱？",
            f"打{d}折就是按原价的{d * 10}%出售：{price}×{d}/10={after}元。\n"
            f"再减{off}元：{after}-{off}={after - off}元。\n"
            f"答案：现在卖{after - off}元。")


def _travel(rng: random.Random) -> tuple[str, str]:
    v1, t1, v2, t2 = rng.randrange(40, 100, 5), rng.randint(1, 4), rng.randrange(40, 100, 5), rng.randint(1, 4)
    dist = v1 * t1 + v2 * t2
    hours = t1 + t2
    exact = dist % hours == 0
    avg_text = str(dist // hours) if exact else f"{dist / hours:.2f}"
    approx = "=" if exact else "≈"
    return (f"一辆汽车先以每小时{v1}千米的速度行驶了{t1}小时，"
            f"又以每小时{v2}千米的速度行驶了{t2}小时。全程的平均速度是多少？",
            f"第一段路程：{v1}×{t1}={v1 * t1}千米；第二段路程：{v2}×{t2}={v2 * t2}千米。\n"
            f"总路程：{v1 * t1}+{v2 * t2}={dist}千米，总时间：{t1}+{t2}={hours}小时。\n"
            f"平均速度=总路程÷总时间={dist}÷{hours}{approx}{avg_text}千米/小时。\n"
            f"注意平均速度不是两个速度的平均数。答案：{'' if exact else '约'}{avg_text}千米/小时。")


def _work(rng: random.Random) -> tuple[str, str]:
    a, b = rng.choice(((6, 3), (10, 15), (12, 4), (20, 30), (8, 24), (6, 12), (15, 10), (12, 6), (9, 18), (4, 12)))
    together = a * b // (a + b)  # every pair above divides exactly
    return (f"一项工程，甲单独做需要{a}天完成，乙单独做需要{b}天完成。两人合作需要几天完成？",
            f"把工程总量看作1。甲每天完成1/{a}，乙每天完成1/{b}。\n"
            f"两人每天合作完成1/{a}+1/{b}={a + b}/{a * b}=1/{together}。\n答案：合作需要{together}天。")


_COT: tuple[Callable[[random.Random], tuple[str, str]], ...] = (_shopping, _change, _chickens, _ages, _discount,
                                                                  _travel, _work)


def cot_rows(rows: int, seed: int) -> list[dict]:
    """Arithmetic word problems with worked reasoning, as alpaca rows (`input` empty, like most alpaca data)."""
    rng = random.Random(seed)
    pairs = unique_draws(lambda: rng.choice(_COT)(rng), rows)
    return [{"instruction": question + rng.choice(_COT_SUFFIX), "input": "", "output": answer}
            for question, answer in pairs]


# --- code (ShareGPT: conversations of {from, value}) -----------------------------------------------------------

_PROGRAMS: tuple[tuple[str, str, str, str], ...] = (
    # (task, function, code, explanation)
    ("计算列表中所有数字的和", "total",
     "def total(numbers):\n    result = 0\n    for n in numbers:\n        result += n\n    return result\n\n"
     "print(total([1, 2, 3, 4]))  # 10", "逐个累加列表元素，时间复杂度O(n)。实际中也可以直接用内置的sum()。"),
    ("判断一个字符串是不是回文", "is_palindrome",
     "def is_palindrome(s):\n    s = s.lower()\n    return s == s[::-1]\n\n"
     "print(is_palindrome(\"Level\"))  # True", "把字符串反转后与原串比较；先转小写，使大小写不影响结果。"),
    ("计算n的阶乘", "factorial",
     "def factorial(n):\n    if n < 0:\n        raise ValueError(\"n必须是非负整数\")\n    result = 1\n"
     "    for i in range(2, n + 1):\n        result *= i\n    return result\n\nprint(factorial(5))  # 120",
     "用循环代替递归，避免n很大时递归过深；负数没有阶乘，所以抛出异常。"),
    ("生成斐波那契数列的前n项", "fibonacci",
     "def fibonacci(n):\n    seq = []\n    a, b = 0, 1\n    for _ in range(n):\n        seq.append(a)\n"
     "        a, b = b, a + b\n    return seq\n\nprint(fibonacci(8))  # [0, 1, 1, 2, 3, 5, 8, 13]",
     "用两个变量保存相邻两项，每步更新一次，时间复杂度O(n)。"),
    ("判断一个整数是不是质数", "is_prime",
     "def is_prime(n):\n    if n < 2:\n        return False\n    i = 2\n    while i * i <= n:\n"
     "        if n % i == 0:\n            return False\n        i += 1\n    return True\n\nprint(is_prime(29))  # True",
     "只需试除到平方根，因为如果n有大于平方根的因数，必然有一个小于平方根的因数与之对应。"),
    ("统计一段英文中每个单词出现的次数", "word_count",
     "from collections import Counter\n\ndef word_count(text):\n    return Counter(text.lower().split())\n\n"
     "print(word_count(\"the cat and the dog\"))  # Counter({'the': 2, 'cat': 1, 'and': 1, 'dog': 1})",
     "先转小写再按空白切分，用Counter计数；如需去掉标点，可以先用正则表达式清洗。"),
    ("求两个正整数的最大公约数", "gcd",
     "def gcd(a, b):\n    while b:\n        a, b = b, a % b\n    return a\n\nprint(gcd(48, 18))  # 6",
     "这是辗转相除法（欧几里得算法）：用较小数去除较大数的余数替换，直到余数为0。"),
    ("把摄氏温度转换成华氏温度", "celsius_to_fahrenheit",
     "def celsius_to_fahrenheit(c):\n    return c * 9 / 5 + 32\n\nprint(celsius_to_fahrenheit(37))  # 98.6",
     "公式是F = C × 9/5 + 32，例如人体正常体温37℃约等于98.6℉。"),
    ("根据身高和体重计算BMI", "bmi",
     "def bmi(weight_kg, height_m):\n    if height_m <= 0:\n        raise ValueError(\"身高必须大于0\")\n"
     "    return round(weight_kg / height_m ** 2, 1)\n\nprint(bmi(70, 1.75))  # 22.9",
     "BMI等于体重（千克）除以身高（米）的平方；这里保留一位小数，并检查身高不能为0。"),
    ("去掉列表中的重复元素并保持原来的顺序", "unique",
     "def unique(items):\n    seen = set()\n    result = []\n    for x in items:\n        if x not in seen:\n"
     "            seen.add(x)\n            result.append(x)\n    return result\n\n"
     "print(unique([3, 1, 3, 2, 1]))  # [3, 1, 2]",
     "用集合记录已经出现过的元素，集合查找是O(1)，整体O(n)；直接用set()会打乱顺序。"),
    ("在有序列表中二分查找一个数", "binary_search",
     "def binary_search(items, target):\n    lo, hi = 0, len(items) - 1\n    while lo <= hi:\n"
     "        mid = (lo + hi) // 2\n        if items[mid] == target:\n            return mid\n"
     "        if items[mid] < target:\n            lo = mid + 1\n        else:\n            hi = mid - 1\n"
     "    return -1\n\nprint(binary_search([1, 3, 5, 7, 9], 7))  # 3",
     "每次比较后把查找范围缩小一半，时间复杂度O(log n)；找不到时返回-1。"),
    ("判断某一年是不是闰年", "is_leap_year",
     "def is_leap_year(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n\n"
     "print(is_leap_year(2000), is_leap_year(1900))  # True False",
     "能被4整除但不能被100整除，或者能被400整除的年份是闰年。"),
    ("计算一个整数各位数字之和", "digit_sum",
     "def digit_sum(n):\n    n = abs(n)\n    total = 0\n    while n:\n        total += n % 10\n        n //= 10\n"
     "    return total\n\nprint(digit_sum(1234))  # 10",
     "每次取最后一位（n % 10）再去掉最后一位（n // 10），直到n为0。"),
    ("找出列表中的最大值（不使用max函数）", "find_max",
     "def find_max(numbers):\n    if not numbers:\n        raise ValueError(\"列表不能为空\")\n"
     "    best = numbers[0]\n    for n in numbers[1:]:\n        if n > best:\n            best = n\n    return best\n\n"
     "print(find_max([4, 9, 2, 7]))  # 9", "从第一个元素开始，遇到更大的就替换；空列表没有最大值，所以抛出异常。"),
    ("把嵌套列表展开成一维列表", "flatten",
     "def flatten(items):\n    result = []\n    for x in items:\n        if isinstance(x, list):\n"
     "            result.extend(flatten(x))\n        else:\n            result.append(x)\n    return result\n\n"
     "print(flatten([1, [2, [3, 4]], 5]))  # [1, 2, 3, 4, 5]", "遇到子列表就递归展开，其他元素直接追加。"),
    ("统计字符串中每个字符出现的次数", "char_count",
     "def char_count(s):\n    counts = {}\n    for ch in s:\n        counts[ch] = counts.get(ch, 0) + 1\n"
     "    return counts\n\nprint(char_count(\"hello\"))  # {'h': 1, 'e': 1, 'l': 2, 'o': 1}",
     "用字典保存计数，dict.get的第二个参数给出默认值0。"),
)
_ASK = ("请用Python写一个函数，{task}。", "用Python实现：{task}。", "帮我写段Python代码{task}，函数名叫{fn}。",
        "我想{task}，Python怎么写？", "Python里怎样{task}？请给出完整代码。")
_MORE = ("再写一个函数，{task}。", "还有一个需求：{task}，怎么实现？", "顺便再帮我{task}。")
_FOLLOW = ("能解释一下这段代码的思路吗？", "这个实现的原理是什么？", "为什么要这样写？")


def _program_turns(rng: random.Random) -> list[tuple[str, str]]:
    """One request, then possibly an explanation or a second program: a few thousand distinct conversations."""
    first = rng.randrange(len(_PROGRAMS))
    task, fn, code, why = _PROGRAMS[first]
    turns = [(rng.choice(_ASK).format(task=task, fn=fn), f"可以这样写：\n```python\n{code}\n```\n{why}")]
    roll = rng.random()
    if roll < 0.3:
        turns.append((rng.choice(_FOLLOW), why))
    elif roll < 0.6:
        task2, _, code2, why2 = _PROGRAMS[(first + rng.randrange(1, len(_PROGRAMS))) % len(_PROGRAMS)]
        turns.append((rng.choice(_MORE).format(task=task2), f"好的：\n```python\n{code2}\n```\n{why2}"))
    return turns


def code_rows(rows: int, seed: int) -> list[dict]:
    """Programming requests and answers as ShareGPT conversations (human / gpt), each conversation distinct."""
    rng = random.Random(seed)
    convs = unique_draws(lambda: _program_turns(rng), rows)
    return [{"id": f"code-{i + 1}", "conversations": [m for q, a in turns for m in
                                                      ({"from": "human", "value": q}, {"from": "gpt", "value": a})]}
            for i, turns in enumerate(convs)]


# --- encyclopedic questions (Firefly: conversation of {human, assistant}) --------------------------------------

_CAPITALS = (("河北", "石家庄"), ("山西", "太原"), ("辽宁", "沈阳"), ("吉林", "长春"), ("黑龙江", "哈尔滨"),
             ("江苏", "南京"), ("浙江", "杭州"), ("安徽", "合肥"), ("福建", "福州"), ("江西", "南昌"),
             ("山东", "济南"), ("河南", "郑州"), ("湖北", "武汉"), ("湖南", "长沙"), ("广东", "广州"),
             ("海南", "海口"), ("四川", "成都"), ("贵州", "贵阳"), ("云南", "昆明"), ("陕西", "西安"),
             ("甘肃", "兰州"), ("青海", "西宁"))
_VITAMINS = (("维生素A", "夜盲症", "动物肝脏、胡萝卜"), ("维生素B1", "脚气病", "全谷物、瘦肉"),
             ("维生素C", "坏血病", "新鲜蔬菜和水果"),
             ("维生素D", "佝偻病（儿童）和骨软化症（成人）", "鱼类、蛋黄，以及晒太阳"))
_ORGANS = (("心脏", "通过节律性收缩把血液泵送到全身，为组织输送氧气和营养"),
           ("肺", "进行气体交换：吸入氧气进入血液，排出二氧化碳"),
           ("肝脏", "参与物质代谢、合成蛋白质、分泌胆汁，并对许多物质进行解毒"),
           ("肾脏", "过滤血液、生成尿液，调节水、电解质和酸碱平衡"),
           ("胰腺", "分泌消化酶帮助消化，同时分泌胰岛素和胰高血糖素调节血糖"),
           ("小肠", "是食物消化和营养吸收的主要场所"))
_PLANETS = ("水星", "金星", "地球", "火星", "木星", "土星", "天王星", "海王星")
_ELEMENTS = (("氢", "H", 1), ("氦", "He", 2), ("碳", "C", 6), ("氮", "N", 7), ("氧", "O", 8), ("钠", "Na", 11),
             ("铁", "Fe", 26), ("铜", "Cu", 29), ("钙", "Ca", 20), ("金", "Au", 79))


def _facts() -> list[tuple[str, str]]:
    """Every question-answer pair of the fact tables, two phrasings each."""
    qa: list[tuple[str, str]] = []
    for prov, cap in _CAPITALS:
        qa += [(f"{prov}省的省会是哪里？", f"{prov}省的省会是{cap}。"),
               (f"{cap}是哪个省的省会？", f"{cap}是{prov}省的省会，也是{prov}省人民政府的驻地。")]
    for vit, disease, food in _VITAMINS:
        qa += [(f"缺乏{vit}会导致什么疾病？", f"缺乏{vit}可能导致{disease}。"),
               (f"哪些食物富含{vit}？", f"{vit}的常见来源有{food}。均衡饮食一般就能满足需要，补充剂请遵医嘱。")]
    for organ, role in _ORGANS:
        qa += [(f"人体{organ}的主要功能是什么？", f"{organ}的主要功能是：{role}。"),
               (f"简单介绍一下{organ}的作用。", f"{organ}{role if role.startswith('是') else '的作用是' + role}。")]
    for i, planet in enumerate(_PLANETS):
        qa.append((f"按离太阳由近到远的顺序，{planet}排第几？", f"{planet}是离太阳第{i + 1}近的行星。"))
    qa.append(("太阳系中最大的行星是哪颗？", "太阳系中最大的行星是木星。"))
    for name, symbol, number in _ELEMENTS:
        qa += [(f"化学元素{name}的元素符号是什么？", f"{name}的元素符号是{symbol}。"),
               (f"{name}元素的原子序数是多少？", f"{name}的原子序数是{number}，即原子核内有{number}个质子。")]
    return qa


def wiki_rows(rows: int, seed: int) -> list[dict]:
    """Encyclopedic conversations of one to three questions, as Firefly publishes them, each distinct."""
    rng = random.Random(seed)
    facts = _facts()
    convs = unique_draws(lambda: rng.sample(facts, rng.randint(1, 3)), rows)
    return [{"conversation_id": i + 1, "category": "wiki", "dataset": "cmedins-generated",
             "conversation": [{"human": q, "assistant": a} for q, a in turns]} for i, turns in enumerate(convs)]
