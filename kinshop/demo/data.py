"""The demo platform as data: who is on it, what is sold, and by whom.

Everything here is plain data; `seed.py` turns it into rows through the real
services, so the demo obeys the same rules as production. All amounts are in
fen. Every SKU band leaves the shopkeeper a margin at its floor even with a 2%
platform fee: retail_min × (10000 − commission − 200) ≥ supply × 10000
(the demo tests check it).
"""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "kinshop-demo"
OPERATOR_USERNAME = "operator"
# The fee the bands are designed to survive, on top of each product's commission.
FEE_HEADROOM_BP = 200


@dataclass(frozen=True)
class Person:
    username: str
    display_name: str
    phone: str = ""


@dataclass(frozen=True)
class Sku:
    code: str
    name: str
    supply_price: int
    retail_min: int
    suggested_retail_price: int
    retail_max: int
    stock: int


@dataclass(frozen=True)
class Artwork:
    """How `images.py` draws a picture: a gradient, a motif and a short Latin label."""

    label: str
    top: str
    bottom: str
    motif: str
    accent: str = "#ffffff"


@dataclass(frozen=True)
class Product:
    key: str
    title: str
    description: str
    commission_rate_bp: int
    skus: tuple[Sku, ...]
    artwork: Artwork


@dataclass(frozen=True)
class Supplier:
    name: str
    license_no: str
    description: str
    staff: Person
    products: tuple[Product, ...]


@dataclass(frozen=True)
class Shop:
    """A micro-shop and its keeper. `pricing` says where in each band the keeper
    prices: "suggested", "floor" (the band's minimum) or "premium" (halfway
    between the suggested price and the band's maximum, in whole yuan)."""

    handle: str
    name: str
    bio: str
    keeper: Person
    pricing: str
    product_keys: tuple[str, ...]
    avatar: Artwork


OPERATOR = Person(OPERATOR_USERNAME, "平台运营 · 小K Kinshop Ops")

SUPPLIERS: tuple[Supplier, ...] = (
    Supplier(
        name="临安山核桃合作社 Lin'an Hickory Co-op",
        license_no="91330185MA2HK1Q7XN",
        description=(
            "杭州临安昌化镇的山核桃种植合作社，42 户果农，白露开竿，手工挑拣，当季炒制。\n"
            "A co-operative of 42 hickory growers in Changhua, Lin'an (Hangzhou): "
            "harvested at White Dew, hand-sorted and roasted in season."
        ),
        staff=Person("hickory", "许建国 Xu Jianguo（临安山核桃合作社）", "13905710001"),
        products=(
            Product(
                key="hickory-cracked",
                title="临安手剥山核桃 Lin'an hand-cracked hickory nuts",
                description=(
                    "昌化山区当季山核桃，开口好剥，椒盐和奶油两种口味。不加香精，小朋友也能放心吃。\n\n"
                    "This season's hickory nuts from the Changhua hills, pre-cracked so they open "
                    "with your fingers. Salted or cream flavour, no artificial aroma."
                ),
                commission_rate_bp=1000,
                skus=(
                    Sku("LA-HN-S250", "椒盐 250g · Salted 250 g", 3200, 4500, 4900, 5900, 320),
                    Sku("LA-HN-S500", "椒盐 500g · Salted 500 g", 5800, 8200, 8900, 10800, 180),
                    Sku("LA-HN-C500", "奶油 500g · Cream 500 g", 5900, 8200, 8900, 10800, 140),
                ),
                artwork=Artwork("HICKORY", "#f4d9b0", "#c98b4a", "nuts", "#7a4a24"),
            ),
            Product(
                key="hickory-kernels",
                title="山核桃仁 Hickory nut kernels",
                description=(
                    "手工剥好的山核桃仁，整仁率高，打开就能吃，也适合做烘焙和早餐燕麦。\n\n"
                    "Hand-shelled hickory kernels, mostly whole halves. Eat from the jar or "
                    "scatter over porridge and bakes."
                ),
                commission_rate_bp=1200,
                skus=(
                    Sku("LA-HK-150", "150g 罐装 · 150 g jar", 4200, 5800, 6800, 7900, 260),
                    Sku(
                        "LA-HK-300",
                        "300g 家庭装 · 300 g family pack",
                        7800,
                        10800,
                        12800,
                        14800,
                        90,
                    ),
                ),
                artwork=Artwork("KERNELS", "#fbe7c6", "#d9a05b", "jar", "#8a5a2b"),
            ),
            Product(
                key="pecans",
                title="奶香碧根果 Cream pecans",
                description=(
                    "个大壳薄，奶香浓郁，附赠开果器。\n\n"
                    "Large, thin-shelled pecans with a creamy roast. A nut opener is in the bag."
                ),
                commission_rate_bp=800,
                skus=(Sku("LA-PC-500", "500g 袋装 · 500 g bag", 3600, 4900, 5900, 6900, 400),),
                artwork=Artwork("PECANS", "#f7e1c3", "#b07140", "pouch", "#6b3d1f"),
            ),
            Product(
                key="torreya",
                title="香榧 Torreya nuts",
                description=(
                    "三年一熟的香榧子，香脆回甘，是江南人过年待客的体面零食。\n\n"
                    "Torreya nuts take three years to ripen: crisp, fragrant and a proper "
                    "New Year treat for guests in Jiangnan."
                ),
                commission_rate_bp=1000,
                skus=(
                    Sku("LA-TY-250", "250g 罐装 · 250 g tin", 7800, 10800, 12800, 15800, 60),
                    Sku("LA-TY-GIFT", "500g 礼盒 · 500 g gift box", 15800, 21800, 25800, 29800, 25),
                ),
                artwork=Artwork("TORREYA", "#e9dcc9", "#8c6239", "box", "#c0392b"),
            ),
            Product(
                key="bamboo-shoots",
                title="天目山笋干 Tianmu dried bamboo shoots",
                description=(
                    "天目山春笋晒制，泡发后炖老鸭、烧肉都鲜。\n\n"
                    "Spring shoots from Mount Tianmu, sun-dried. Soak and braise with duck or pork."
                ),
                commission_rate_bp=1000,
                skus=(Sku("LA-BS-250", "250g 袋装 · 250 g bag", 2600, 3500, 3900, 4800, 220),),
                artwork=Artwork("SHOOTS", "#e4efd0", "#8fb35a", "pouch", "#4d6b2a"),
            ),
            Product(
                key="hickory-cookies",
                title="山核桃酥 Hickory nut cookies",
                description=(
                    "老字号配方，酥到掉渣，每块都能吃到山核桃碎。\n\n"
                    "An old family recipe: crumbly shortbread with hickory pieces in every bite."
                ),
                commission_rate_bp=1500,
                skus=(
                    Sku("LA-CK-12", "12 块装 · 12 pieces", 1600, 2400, 2900, 3500, 300),
                    Sku("LA-CK-24", "24 块礼盒 · 24-piece gift box", 3000, 4400, 5200, 6200, 120),
                ),
                artwork=Artwork("COOKIES", "#fff0d6", "#e0a96d", "cookies", "#9c6230"),
            ),
            Product(
                key="hickory-oil",
                title="冷榨山核桃油 Cold-pressed hickory nut oil",
                description=(
                    "低温压榨，坚果清香，适合凉拌和宝宝辅食。\n\n"
                    "Pressed cold for a clean nutty taste: for dressings and baby food."
                ),
                commission_rate_bp=800,
                skus=(
                    Sku("LA-OIL-250", "250ml 玻璃瓶 · 250 ml bottle", 6800, 9600, 11800, 13800, 50),
                ),
                artwork=Artwork("NUT OIL", "#fbf3c8", "#d4b140", "bottle", "#8a6d12"),
            ),
        ),
    ),
    Supplier(
        name="青岚草本 Qinglan Botanics",
        license_no="91330106MA2KQ3L8PB",
        description=(
            "杭州的植物护肤品牌，山茶花和桂花来自浙江本地种植基地，配方简单，敏感肌友好。\n"
            "A Hangzhou botanical skincare brand: camellia and osmanthus from Zhejiang farms, "
            "short ingredient lists, gentle on sensitive skin."
        ),
        staff=Person("qinglan", "林晓岚 Lin Xiaolan（青岚草本）", "13905710002"),
        products=(
            Product(
                key="cleanser",
                title="山茶花氨基酸洁面 Camellia amino-acid cleanser",
                description=(
                    "氨基酸表活，泡沫绵密，洗后不紧绷，早晚都可以用。\n\n"
                    "An amino-acid cleanser with a soft foam that leaves skin comfortable, "
                    "morning and night."
                ),
                commission_rate_bp=2000,
                skus=(Sku("QL-CL-120", "120ml", 2800, 4900, 5900, 6900, 260),),
                artwork=Artwork("CLEANSER", "#fde2e4", "#f08a9b", "tube", "#ffffff"),
            ),
            Product(
                key="serum",
                title="玻尿酸保湿精华 Hyaluronic moisture serum",
                description=(
                    "三重分子玻尿酸，空调房里也水润一整天。\n\n"
                    "Three sizes of hyaluronic acid keep skin hydrated all day, even in air conditioning."
                ),
                commission_rate_bp=1800,
                skus=(
                    Sku("QL-SR-30", "30ml", 6000, 9900, 12900, 14900, 150),
                    Sku("QL-SR-50", "50ml", 9000, 14900, 18900, 21900, 80),
                ),
                artwork=Artwork("SERUM", "#dff3f8", "#6cc3d5", "bottle", "#ffffff"),
            ),
            Product(
                key="cream",
                title="山茶花修护面霜 Camellia repair cream",
                description=(
                    "山茶花籽油加神经酰胺，换季泛红时的救星。\n\n"
                    "Camellia seed oil with ceramides, for skin that reddens when the seasons change."
                ),
                commission_rate_bp=1800,
                skus=(Sku("QL-CR-50", "50g", 7200, 11900, 14900, 16900, 120),),
                artwork=Artwork("CAMELLIA", "#fbe4ec", "#d96c8e", "jar", "#ffffff"),
            ),
            Product(
                key="sunscreen",
                title="清透防晒乳 SPF50+ Light sunscreen SPF50+",
                description=(
                    "轻薄不油腻，不泛白，通勤和军训都够用。\n\n"
                    "Light, non-greasy and no white cast: enough for the commute or a day outdoors."
                ),
                commission_rate_bp=1500,
                skus=(
                    Sku("QL-SS-50", "50ml", 4200, 6900, 8900, 9900, 200),
                    Sku("QL-SS-2X50", "两支装 · Twin pack", 7800, 12900, 15900, 17900, 60),
                ),
                artwork=Artwork("SPF 50+", "#fff5cc", "#ffb547", "tube", "#ffffff"),
            ),
            Product(
                key="sheet-masks",
                title="补水面膜 Hydrating sheet masks",
                description=(
                    "天丝膜布，精华足，敷 15 分钟即可。\n\n"
                    "Tencel sheets soaked in serum. Fifteen minutes is all it takes."
                ),
                commission_rate_bp=2000,
                skus=(
                    Sku("QL-MK-5", "5 片 · 5 sheets", 2200, 3900, 4900, 5900, 500),
                    Sku("QL-MK-10", "10 片 · 10 sheets", 4000, 6900, 8900, 9900, 240),
                ),
                artwork=Artwork("MASKS", "#e6f0ff", "#7fa7e8", "masks", "#ffffff"),
            ),
            Product(
                key="lip-balm",
                title="蜂蜡润唇膏 Beeswax lip balm",
                description=(
                    "天然蜂蜡和乳木果油，无色无香，男生也能用。\n\n"
                    "Natural beeswax and shea butter, unscented and clear: for everyone."
                ),
                commission_rate_bp=1500,
                skus=(
                    Sku("QL-LB-1", "单支 · Single", 900, 1500, 1900, 2500, 480),
                    Sku("QL-LB-3", "三支装 · 3-pack", 2400, 3900, 4900, 5900, 150),
                ),
                artwork=Artwork("LIP BALM", "#fff1e0", "#f2a65a", "lipstick", "#ffffff"),
            ),
            Product(
                key="hand-cream",
                title="桂花护手霜 Osmanthus hand cream",
                description=(
                    "淡淡的西湖桂花香，吸收快，不粘手机屏幕。\n\n"
                    "A light scent of West Lake osmanthus; absorbs fast, no greasy phone screen."
                ),
                commission_rate_bp=1200,
                skus=(
                    Sku("QL-HC-50", "50g", 1200, 1900, 2500, 2900, 350),
                    Sku("QL-HC-GIFT", "三支礼盒 · 3-tube gift set", 3300, 5200, 6600, 7900, 90),
                ),
                artwork=Artwork("OSMANTHUS", "#fff4d6", "#f0b429", "tube", "#ffffff"),
            ),
        ),
    ),
    Supplier(
        name="溪龙白茶园 Xilong White Tea Garden",
        license_no="91330523MA2D7W5T2C",
        description=(
            "湖州安吉溪龙乡的家庭茶园，三代种茶，手工采摘，当天杀青。\n"
            "A family tea garden in Xilong, Anji (Huzhou): three generations of growers, "
            "hand-picked leaves, fixed the same day."
        ),
        staff=Person("whitetea", "宋春茶 Song Chuncha（溪龙白茶园）", "13905720003"),
        products=(
            Product(
                key="anji-mingqian",
                title="安吉白茶 明前特级 Anji white tea, pre-Qingming",
                description=(
                    "清明前采摘的一芽一叶，叶白脉翠，鲜爽带豆香。80°C 水温冲泡最好。\n\n"
                    "One bud and one leaf picked before Qingming: pale leaves, green veins, "
                    "a fresh, bean-sweet cup. Brew at 80 °C."
                ),
                commission_rate_bp=1000,
                skus=(
                    Sku("XL-MQ-50", "50g 罐 · 50 g tin", 9800, 13800, 16800, 19800, 120),
                    Sku("XL-MQ-100", "100g", 18800, 26800, 31800, 36800, 80),
                    Sku("XL-MQ-250", "250g 礼盒 · 250 g gift box", 45000, 62800, 72800, 82800, 30),
                ),
                artwork=Artwork("ANJI", "#eef7e4", "#7cb66a", "leaves", "#2f6b2f"),
            ),
            Product(
                key="anji-yuqian",
                title="安吉白茶 雨前一级 Anji white tea, first grade",
                description=(
                    "谷雨前采摘，滋味更醇厚，日常口粮茶。\n\n"
                    "Picked before Grain Rain: a rounder taste, an everyday tea."
                ),
                commission_rate_bp=1000,
                skus=(
                    Sku("XL-YQ-100", "100g", 9800, 13800, 16800, 19800, 200),
                    Sku("XL-YQ-250", "250g", 22800, 32800, 38800, 44800, 90),
                ),
                artwork=Artwork("WHITE TEA", "#f1f7e8", "#9cc27d", "tin", "#3e7a3a"),
            ),
            Product(
                key="golden-bud",
                title="黄金芽 Golden bud green tea",
                description=(
                    "叶色金黄的珍稀茶种，氨基酸含量高，汤色明亮。\n\n"
                    "A rare cultivar with golden leaves, rich in amino acids, with a bright liquor."
                ),
                commission_rate_bp=1000,
                skus=(Sku("XL-HJ-50", "50g", 11800, 16800, 19800, 23800, 70),),
                artwork=Artwork("GOLDEN BUD", "#fff6d1", "#e3b63b", "leaves", "#8a6a00"),
            ),
            Product(
                key="cold-brew",
                title="白茶冷泡茶包 Cold-brew white tea bags",
                description=(
                    "矿泉水瓶里丢一包，冷藏 4 小时，办公室和宿舍都方便。\n\n"
                    "Drop a bag into a bottle of water and chill for four hours: "
                    "easy at the office or in a dorm."
                ),
                commission_rate_bp=1500,
                skus=(
                    Sku("XL-CB-15", "15 包 · 15 bags", 2000, 3200, 3900, 4900, 450),
                    Sku("XL-CB-30", "30 包 · 30 bags", 3600, 5800, 6900, 7900, 220),
                ),
                artwork=Artwork("COLD BREW", "#e3f6f1", "#5fbfa6", "cup", "#ffffff"),
            ),
            Product(
                key="tea-set",
                title="竹制旅行茶具 Bamboo travel tea set",
                description=(
                    "安吉毛竹做的便携茶具，一壶两杯，出门露营也能喝好茶。\n\n"
                    "A portable set of Anji bamboo, one pot and two cups, for good tea on a camping trip."
                ),
                commission_rate_bp=1200,
                skus=(Sku("XL-TS-1", "一壶两杯 · Pot and 2 cups", 6800, 9800, 12800, 14800, 40),),
                artwork=Artwork("TEA SET", "#f3ead7", "#c2a36b", "teapot", "#5c4a24"),
            ),
            Product(
                key="honey",
                title="茶园土蜂蜜 Tea-garden wild honey",
                description=(
                    "茶园边散养的中华蜂，一年只取一次蜜，浓稠会结晶。\n\n"
                    "From Chinese honeybees kept beside the tea garden, harvested once a year; "
                    "thick, and it crystallises."
                ),
                commission_rate_bp=1000,
                skus=(Sku("XL-HY-500", "500g", 4800, 6800, 7800, 8900, 110),),
                artwork=Artwork("HONEY", "#fff3c4", "#f2a900", "jar", "#7a5200"),
            ),
        ),
    ),
)

SHOPS: tuple[Shop, ...] = (
    Shop(
        handle="hangzhou-mama",
        name="林妈妈零食铺 Mama Lin's Snacks",
        bio=(
            "杭州西湖区两个娃的妈妈。只卖自家孩子也在吃的零食，每样都先试吃一周。\n"
            "Mum of two in Hangzhou. I only sell snacks my own kids eat, each tasted for a week first."
        ),
        keeper=Person("mama-lin", "林妈妈 Mama Lin", "13812340001"),
        pricing="suggested",
        product_keys=(
            "hickory-cracked",
            "hickory-kernels",
            "pecans",
            "hickory-cookies",
            "torreya",
            "honey",
            "cold-brew",
            "hickory-oil",
        ),
        avatar=Artwork("ML", "#ffd6a5", "#ff8c61", "avatar"),
    ),
    Shop(
        handle="acha-tea",
        name="阿茶的茶席 A-Cha's Tea Table",
        bio=(
            "喝茶十年，每年春天去安吉茶山收茶。配茶的小点心也一起挑好了。\n"
            "Ten years of tea. Every spring I visit the Anji gardens; the nibbles to go with it are picked too."
        ),
        keeper=Person("acha", "阿茶 A-Cha", "13812340002"),
        pricing="premium",
        product_keys=(
            "anji-mingqian",
            "anji-yuqian",
            "golden-bud",
            "tea-set",
            "cold-brew",
            "torreya",
            "hickory-kernels",
        ),
        avatar=Artwork("AC", "#d8f3dc", "#52b788", "avatar"),
    ),
    Shop(
        handle="xiaolu-skin",
        name="小鹿护肤笔记 Xiaolu's Skin Notes",
        bio=(
            "敏感肌护肤博主，成分党。推荐的每一样我都用空过至少一瓶。\n"
            "Sensitive-skin blogger who reads ingredient lists. I finish a bottle before I recommend it."
        ),
        keeper=Person("xiaolu", "小鹿 Xiaolu", "13812340003"),
        pricing="premium",
        product_keys=(
            "cleanser",
            "serum",
            "cream",
            "sunscreen",
            "sheet-masks",
            "lip-balm",
            "hand-cream",
        ),
        avatar=Artwork("XL", "#fde2e4", "#e5989b", "avatar"),
    ),
    Shop(
        handle="dorm-zhou",
        name="小周宿舍好物 Zhou's Dorm Picks",
        bio=(
            "大三学生，帮室友们挑又便宜又好用的东西，全部按最低价卖。\n"
            "Third-year student picking cheap things that work for my roommates, all at the lowest price."
        ),
        keeper=Person("zhou", "小周 Zhou", "13812340004"),
        pricing="floor",
        product_keys=(
            "sheet-masks",
            "cold-brew",
            "lip-balm",
            "hickory-cookies",
            "sunscreen",
        ),
        avatar=Artwork("ZH", "#caf0f8", "#48cae4", "avatar"),
    ),
    Shop(
        handle="teacher-wang",
        name="王老师的茶与山货 Teacher Wang's Tea & Hill Goods",
        bio=(
            "退休语文老师，老家临安。山里的笋干、山核桃，配一杯安吉白茶，都是小时候的味道。\n"
            "Retired Chinese teacher from Lin'an. Bamboo shoots, hickory nuts and a cup of Anji tea: "
            "the taste of my childhood."
        ),
        keeper=Person("teacher-wang", "王老师 Teacher Wang", "13812340005"),
        pricing="suggested",
        product_keys=(
            "bamboo-shoots",
            "hickory-cracked",
            "anji-yuqian",
            "anji-mingqian",
            "honey",
            "hand-cream",
        ),
        avatar=Artwork("TW", "#e9edc9", "#a3b18a", "avatar"),
    ),
)

# People who only buy and share: every signed-in user may share and earn, no shop needed.
CONSUMERS: tuple[Person, ...] = (
    Person("xiaomei", "小美 Xiaomei", "13812340011"),
    Person("laozhang", "老张 Lao Zhang", "13812340012"),
    Person("amy-li", "李艾米 Amy Li", "13812340013"),
)


# The live rooms (裂变式直播) of the demo: one on air with pins, shares and a
# chat, one scheduled for later; said by (username, minutes ago, text).
LIVE_SHOP = "hangzhou-mama"
LIVE_PINS = ("hickory-cracked", "pecans", "honey")
LIVE_TITLE = "临安山核桃开箱直播 · Hickory harvest, live"
LIVE_DEAL_PRODUCT = "pecans"  # the flash deal running in the room
LIVE_DEAL_UNITS = 20
LIVE_LATER_TITLE = "周五茶点之夜 · Friday tea-snack evening"
LIVE_CHAT: tuple[tuple[str, float, str], ...] = (
    ("mama-lin", 20, "大家好！今天开箱今年的临安山核桃 Hello everyone, this year's hickory nuts!"),
    ("xiaomei", 18, "来啦～上次买的孩子超爱 Here! My kids loved the last bag"),
    ("laozhang", 15, "手剥的好剥吗？Are they easy to crack by hand?"),
    ("mama-lin", 14, "开口的，手一捏就开 Pre-cracked: a pinch opens them"),
    ("amy-li", 9, "蜂蜜是哪里的？Where is the honey from?"),
    ("mama-lin", 8, "安吉的百花蜜，置顶了 Anji wildflower honey, pinned above"),
    ("laozhang", 3, "下单了两袋 Ordered two bags"),
)


@dataclass(frozen=True)
class Login:
    role: str
    username: str
    display_name: str
    opens: str


def logins(base_url: str = "http://127.0.0.1:8000") -> list[Login]:
    """Every demo login and the page to open first with it."""
    rows = [Login("operator", OPERATOR.username, OPERATOR.display_name, f"{base_url}/admin/")]
    rows += [
        Login("supplier", s.staff.username, s.staff.display_name, f"{base_url}/console/supplier/")
        for s in SUPPLIERS
    ]
    rows += [
        Login(
            "shopkeeper", shop.keeper.username, shop.keeper.display_name, shop_url(base_url, shop)
        )
        for shop in SHOPS
    ]
    rows += [Login("consumer", c.username, c.display_name, f"{base_url}/me/") for c in CONSUMERS]
    return rows


def shop_url(base_url: str, shop: Shop) -> str:
    return f"{base_url}/shop/{shop.handle}/"


def all_products() -> dict[str, Product]:
    return {product.key: product for supplier in SUPPLIERS for product in supplier.products}


# ---- The story after the catalogue: sharing, orders, after-sales, withdrawals ----
#
# Every order goes through the real services at the time it says (days before
# the seeding), then the jobs run once, so every status the platform knows is on
# show: awaiting payment (sandbox and offline), paid, shipped, completed (settled
# and still pending), cancelled, refunded, partly refunded, a refund awaiting the
# supplier. Sharers earn on the orders they brought; buyers never share with
# themselves and ship to their own phone, so every attribution is eligible.


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    region: str
    detail: str


ADDRESSES: dict[str, Address] = {
    "xiaomei": Address(
        "陈小美", "13812340011", "浙江省 杭州市 西湖区", "文三路 90 号 东部软件园 3 幢 502"
    ),
    "laozhang": Address(
        "张建华", "13812340012", "上海市 徐汇区", "漕溪北路 88 号 圣爱大厦 1203 室"
    ),
    "amy-li": Address(
        "李艾米", "13812340013", "江苏省 南京市 鼓楼区", "汉口路 22 号 南京大学南园 6 舍"
    ),
    "zhou": Address(
        "周子航", "13812340004", "浙江省 杭州市 西湖区", "余杭塘路 866 号 浙大紫金港 蓝田 2 舍"
    ),
    "teacher-wang": Address(
        "王秀英", "13812340005", "浙江省 杭州市 临安区", "锦城街道 钱王街 188 号"
    ),
    "mama-lin": Address(
        "林静", "13812340001", "浙江省 杭州市 西湖区", "古翠路 55 号 嘉绿苑 7 幢 301"
    ),
    "xiaolu": Address(
        "鹿晓", "13812340003", "浙江省 宁波市 鄞州区", "天童南路 588 号 宁波文化广场 2 号楼"
    ),
    "acha": Address("茶阿明", "13812340002", "浙江省 湖州市 安吉县", "递铺街道 天目路 39 号"),
}


@dataclass(frozen=True)
class ShareOf:
    """A sharer shares a shop, or one product it sells (product_key), and
    strangers open the link `anonymous_clicks` times on `channel`."""

    sharer: str
    shop: str
    product_key: str = ""
    channel: str = "link"
    anonymous_clicks: int = 0


SHARES: tuple[ShareOf, ...] = (
    ShareOf("xiaomei", "hangzhou-mama", "hickory-cracked", "qr", 9),
    ShareOf("xiaomei", "xiaolu-skin", "cream", "link", 5),
    ShareOf("xiaomei", "hangzhou-mama", "torreya", "link", 3),
    ShareOf("xiaomei", "xiaolu-skin", "cleanser", "link", 4),
    ShareOf("xiaomei", "hangzhou-mama", "hickory-cookies", "qr", 6),
    ShareOf("xiaomei", "xiaolu-skin", "lip-balm", "link", 2),
    ShareOf("xiaomei", "hangzhou-mama", "", "link", 7),
    ShareOf("laozhang", "xiaolu-skin", "serum", "link", 4),
    ShareOf("laozhang", "acha-tea", "golden-bud", "live", 12),
    ShareOf("laozhang", "dorm-zhou", "sheet-masks", "link", 3),
    ShareOf("laozhang", "acha-tea", "tea-set", "offline", 2),
    ShareOf("laozhang", "dorm-zhou", "cold-brew", "qr", 5),
    ShareOf("amy-li", "acha-tea", "anji-mingqian", "link", 6),
    ShareOf("amy-li", "xiaolu-skin", "sunscreen", "qr", 8),
    ShareOf("amy-li", "teacher-wang", "", "link", 3),
    ShareOf("xiaolu", "hangzhou-mama", "hickory-kernels", "link", 4),
)


@dataclass(frozen=True)
class Item:
    product_key: str
    sku_code: str
    quantity: int = 1


@dataclass(frozen=True)
class DemoOrder:
    """One order and what becomes of it. `fate` is one of:
    pending_payment (sandbox payment started, not paid), offline_waiting (an
    offline payment the supplier has not confirmed yet), cancelled (never paid,
    the deadline passed), paid, shipped, completed (confirmed by the buyer),
    auto_confirmed (shipped long ago, completed by the job), refunded (in full),
    partial_refund (completed, part of it refunded) and refund_requested
    (awaiting the supplier's decision). `days_ago` is when it was placed."""

    buyer: str
    shop: str
    items: tuple[Item, ...]
    fate: str
    days_ago: float
    sharer: str = ""
    channel: str = "link"
    refund: int = 0
    reason: str = ""


ORDERS: tuple[DemoOrder, ...] = (
    # Completed three weeks ago: settled, the sharers' money is available.
    DemoOrder("xiaomei", "xiaolu-skin", (Item("serum", "QL-SR-30"),), "completed", 20, "laozhang"),
    DemoOrder(
        "laozhang",
        "hangzhou-mama",
        (Item("hickory-cracked", "LA-HN-S500", 2),),
        "completed",
        21,
        "xiaomei",
        "qr",
    ),
    DemoOrder("zhou", "xiaolu-skin", (Item("cream", "QL-CR-50"),), "completed", 19, "xiaomei"),
    DemoOrder(
        "teacher-wang", "acha-tea", (Item("anji-mingqian", "XL-MQ-50"),), "completed", 22, "amy-li"
    ),
    DemoOrder(
        "mama-lin",
        "xiaolu-skin",
        (Item("sunscreen", "QL-SS-2X50"),),
        "completed",
        18,
        "amy-li",
        "qr",
    ),
    DemoOrder("acha", "teacher-wang", (Item("bamboo-shoots", "LA-BS-250", 3),), "completed", 17),
    # Shipped twelve days ago and never confirmed: the job completes it.
    DemoOrder(
        "amy-li",
        "acha-tea",
        (Item("golden-bud", "XL-HJ-50"),),
        "auto_confirmed",
        13,
        "laozhang",
        "live",
    ),
    # Completed this week: still inside the after-sales window, money pending.
    DemoOrder(
        "xiaolu", "hangzhou-mama", (Item("torreya", "LA-TY-GIFT"),), "completed", 4, "xiaomei"
    ),
    DemoOrder(
        "laozhang",
        "xiaolu-skin",
        (Item("cleanser", "QL-CL-120"),),
        "partial_refund",
        5,
        "xiaomei",
        refund=2000,
        reason="泵头坏了，商家同意退 20 元 · The pump was broken; ¥20 back agreed",
    ),
    DemoOrder(
        "xiaomei",
        "dorm-zhou",
        (Item("sheet-masks", "QL-MK-10", 2),),
        "refund_requested",
        3,
        "laozhang",
        refund=6900,
        reason="一盒面膜漏液了 · One box of masks arrived leaking",
    ),
    # On the way.
    DemoOrder(
        "amy-li",
        "hangzhou-mama",
        (Item("hickory-cookies", "LA-CK-24"), Item("hickory-kernels", "LA-HK-150")),
        "shipped",
        2,
        "xiaomei",
        "qr",
    ),
    DemoOrder("zhou", "teacher-wang", (Item("honey", "XL-HY-500"),), "shipped", 2),
    # Paid, waiting for the supplier to ship.
    DemoOrder(
        "xiaomei", "acha-tea", (Item("tea-set", "XL-TS-1"),), "paid", 1, "laozhang", "offline"
    ),
    DemoOrder(
        "laozhang",
        "hangzhou-mama",
        (Item("pecans", "LA-PC-500"), Item("hickory-kernels", "LA-HK-300")),
        "paid",
        1,
    ),
    DemoOrder(
        "teacher-wang", "xiaolu-skin", (Item("lip-balm", "QL-LB-3"),), "paid", 0.5, "xiaomei"
    ),
    DemoOrder("mama-lin", "xiaolu-skin", (Item("serum", "QL-SR-50"),), "paid", 0.2),
    # Refunded in full before shipping: the buyer ordered the wrong thing.
    DemoOrder(
        "amy-li",
        "dorm-zhou",
        (Item("cold-brew", "XL-CB-30"),),
        "refunded",
        4,
        "laozhang",
        "qr",
        refund=-1,
        reason="拍错了规格 · Ordered the wrong size",
    ),
    # Never paid: the payment deadline passed and the job cancelled it.
    DemoOrder("laozhang", "acha-tea", (Item("anji-yuqian", "XL-YQ-100"),), "cancelled", 1),
    # Awaiting payment right now.
    DemoOrder(
        "xiaomei", "teacher-wang", (Item("hickory-cracked", "LA-HN-C500"),), "pending_payment", 0
    ),
    # A bank transfer Qinglan has not seen arrive yet.
    DemoOrder(
        "mama-lin", "xiaolu-skin", (Item("hand-cream", "QL-HC-GIFT", 2),), "offline_waiting", 0
    ),
)


@dataclass(frozen=True)
class Withdrawals:
    """A sharer verifies their identity and withdraws: `paid_out` amounts are
    approved by the operator, `requested` ones await the operator."""

    username: str
    real_name: str
    id_number: str
    paid_out: tuple[int, ...]
    requested: tuple[int, ...]


WITHDRAWALS: tuple[Withdrawals, ...] = (
    Withdrawals("xiaomei", "陈小美", "33010619920315452X", paid_out=(2000,), requested=(1500,)),
)


# ---- wholesale: two keepers who also sell offline ----


@dataclass(frozen=True)
class WholesaleBuy:
    """A keeper buys stock for offline resale `days_ago`; it is paid at once and
    shipped a day later. `offline_sales` are (days ago, units, price per unit)."""

    shop: str
    sku_code: str
    quantity: int
    days_ago: float
    offline_sales: tuple[tuple[float, int, int], ...] = ()


# Tiers per SKU: (from quantity, price per unit in fen), falling, under the supply price.
WHOLESALE_TIERS: dict[str, tuple[tuple[int, int], ...]] = {
    "LA-HN-S500": ((10, 5600), (30, 5300), (100, 5000)),
    "LA-HN-S250": ((10, 3100), (50, 2900)),
    "LA-CK-12": ((20, 1500), (60, 1400)),
    "XL-CB-15": ((20, 1900), (50, 1800)),
    "XL-MQ-50": ((5, 9500), (20, 9200)),
}

WHOLESALE_BUYS: tuple[WholesaleBuy, ...] = (
    # A-Cha brews tea-bag samplers at her tea table and sells the packs there.
    WholesaleBuy(
        "acha-tea",
        "XL-CB-15",
        40,
        24,
        offline_sales=((18, 12, 3900), (9, 9, 3900), (2, 7, 3600)),
    ),
    # Teacher Wang's stall at the Sunday market in Lin'an.
    WholesaleBuy("teacher-wang", "LA-HN-S500", 30, 5, offline_sales=((2, 6, 8800),)),
)
