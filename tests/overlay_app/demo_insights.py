"""The demo's promise for Insights (issue 16): a community manager opens Insights and sees their
community's KPIs with a chart (the demo's channel: five people write in it, enough to be shown),
the practices that never talk to each other (the demo keeps Deals & Transactions and Tax apart:
plaza/demo_activity.APART) and the experts on a tag with their evidence as links, against a
running `plaza demo`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.overlay_app.demo_revocation import signed_in


def check_insights_of_the_demo(data_dir: Path, web_url: str, upn: str) -> None:
    info = json.loads((data_dir / "emulator.json").read_text())
    web = signed_in(web_url, info, upn)
    scopes = web.get(f"{web_url}/api/v1/insights/scopes", timeout=30).json()
    [channel] = scopes["channel"]
    assert channel["label"] == "#audit-practice"
    query = {"scope": channel["scope"], "days": 7}
    kpis = web.get(f"{web_url}/api/v1/insights/kpis", params=query, timeout=30).json()
    assert (kpis["withheld"], kpis["current"]["posting"]) == (None, 5)
    page = web.get(f"{web_url}/insights", params=query, timeout=30).text
    assert '<svg class="chart" role="img"' in page
    tag = scopes["tag"][0]["scope"].removeprefix("tag:")
    experts = web.get(f"{web_url}/api/v1/insights/experts", params={"tag": tag}, timeout=30)
    assert experts.status_code == 200
    ranked = experts.json()["value"]
    assert ranked and all(person["evidence"] for person in ranked)
    check_practices_that_never_talk(web, web_url)


def check_practices_that_never_talk(web, web_url: str) -> None:
    """Every practice holds five people or more, so each is measured; of the three pairs, only
    Deals & Transactions and Tax have no tie at all (Audit discusses with both)."""
    query = {"unit": "department", "days": 28}
    network = web.get(f"{web_url}/api/v1/insights/network", params=query, timeout=60).json()
    assert network["withheld"] is None
    silos = network["silos"]
    assert [row["unit"] for row in silos["units"]] == [
        "Audit & Assurance",
        "Deals & Transactions",
        "Tax",
    ]
    assert silos["tooFewPeople"] == []
    assert silos["neverTalk"] == [["Deals & Transactions", "Tax"]]
    assert [link["units"] for link in silos["links"]] == [
        ["Audit & Assurance", "Deals & Transactions"],
        ["Audit & Assurance", "Tax"],
    ]
    page = web.get(f"{web_url}/insights/network", params=query, timeout=60).text
    never = page.split("<h2>Never talk to each other</h2>", 1)[1].split("</ul>", 1)[0]
    assert re.findall(r"<li>(.*?)</li>", never) == ["Deals &amp; Transactions — Tax"]
