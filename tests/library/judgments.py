"""Short judgments in the field names of published data sets (LeCaRD/CAIL), for the library tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ALIPAY_THEFT = {
    "writId": "w-theft-1",
    "ajId": "a-theft-1",
    "ajName": "王建国盗窃一案",
    "writName": "王建国盗窃一审刑事判决书",
    "ajjbqk": "经审理查明，2019年3月5日，被告人王建国趁被害人李秀英不备，拿取其手机，"
    "通过支付宝将被害人账户内人民币12000元转入自己的支付宝账户，后用于消费。"
    "被告人王建国到案后如实供述自己的罪行，其联系电话13912345678。",
    "cpfxgc": "本院认为，被告人王建国以非法占有为目的，秘密窃取他人财物，数额较大，其行为已构成盗窃罪。"
    "被告人王建国到案后如实供述，系坦白，依法可以从轻处罚。依照《中华人民共和国刑法》第二百六十四条、第六十七条第三款之规定，",
    "pjjg": "被告人王建国犯盗窃罪，判处有期徒刑八个月，并处罚金人民币三千元。",
}
WECHAT_THEFT = {
    "writId": "w-theft-2",
    "ajName": "赵志强盗窃一案",
    "writName": "赵志强盗窃一审刑事判决书",
    "ajjbqk": "经审理查明，2020年6月，被告人赵志强借用被害人手机，趁其不备通过微信支付将被害人零钱"
    "人民币8000元转账至自己的微信账户。案发后被告人赵志强退赔被害人全部损失，取得谅解。",
    "cpfxgc": "本院认为，被告人赵志强秘密窃取他人财物，数额较大，其行为已构成盗窃罪。"
    "被告人退赔并取得谅解，可酌情从轻处罚。",
    "pjjg": "被告人赵志强犯盗窃罪，判处拘役五个月，并处罚金人民币二千元。",
}
FRAUD = {
    "writId": "w-fraud-1",
    "ajName": "陈明诈骗一案",
    "writName": "陈明诈骗一审刑事判决书",
    "ajjbqk": "经审理查明，被告人陈明冒充客服人员，以退款为名骗取被害人信任，诱骗被害人通过支付宝"
    "向其指定账户转账人民币50000元。",
    "cpfxgc": "本院认为，被告人陈明以非法占有为目的，虚构事实，骗取他人财物，数额巨大，其行为已构成诈骗罪。",
    "pjjg": "被告人陈明犯诈骗罪，判处有期徒刑三年六个月，并处罚金人民币二万元。",
}
DRUNK_DRIVING = {
    "id": "own-1",
    "title": "刘伟危险驾驶案",
    "facts": "2021年5月1日晚，被告人刘伟酒后驾驶苏E12345号小型轿车行驶至苏州市姑苏区人民路时被民警查获，"
    "经鉴定其血液中乙醇含量为180mg/100ml。",
    "reasoning": "本院认为，被告人刘伟在道路上醉酒驾驶机动车，其行为已构成危险驾驶罪。被告人自愿认罪认罚。",
    "judgment": "被告人刘伟犯危险驾驶罪，判处拘役二个月，并处罚金人民币四千元。",
}
ALL = [ALIPAY_THEFT, WECHAT_THEFT, FRAUD, DRUNK_DRIVING]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path
