"""The network measures on a hand-written activity (the pure part of insights/network.py):
exact E-I indices, the units that never talk, key-person risk, brokers, choke points, and
ethical walls taking people out before anything is measured.

Three units of five people: Tax (t0..t4), Audit (a0..a4), Legal (l0..l4), and Deals with
four (d0..d3, too few to be measured). Tax talks inside and, through t0 only, to Audit; Legal
talks only inside; Audit's a0 and a1 carry its ties outside.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from overlay_app.insights import network
from overlay_app.insights.activity import Activity, Comment, stamp
from overlay_app.insights.reads import analyse

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def unit_people(prefix: str, unit: str, count: int) -> dict[str, tuple[str, str]]:
    return {f"{prefix}{n}": (unit, "London") for n in range(count)}


UNITS = {
    **unit_people("t", "Tax", 5),
    **unit_people("a", "Audit", 5),
    **unit_people("l", "Legal", 5),
    **unit_people("d", "Deals", 4),
}


def scripted() -> Activity:
    at = stamp(NOW - timedelta(days=1))
    comments, counter = [], iter(range(1000))

    def say(author: str, doc: str, parent: str | None = None) -> str:
        cid = f"c{next(counter)}"
        comments.append(Comment(cid, ("drive", doc), parent, author, at))
        return cid

    first = say("t0", "tax-1")
    say("t1", "tax-1", first)  # a reply: t1-t0 (inside Tax), plus co-commenting t0-t1
    say("t2", "tax-2")
    say("t3", "tax-2")  # co-commenting t2-t3
    cross = say("t0", "joint")
    say("a0", "joint", cross)  # t0-a0: reply + co-commenting
    say("l0", "legal")
    say("l1", "legal")  # l0-l1 inside Legal
    asks = say("a1", "audit-q")  # a thread mentioning d0, unanswered: waits on d0
    say("d1", "deals")
    activity = Activity(now=NOW, comments=comments, units=UNITS)
    activity.mentions = {asks: {"d0"}}
    return activity


def test_e_i_index_never_talk_and_too_few_people():
    activity = scripted()
    graph = network.person_graph(activity, 90, walled=set())
    units = network.unit_of(activity, "department")
    sizes = network.unit_sizes(activity, "department", set())
    found = network.silos(graph, units, sizes, 5)
    assert found["units"] == [
        {"unit": "Audit", "people": 5, "internal": 0, "external": 3, "ei": 1.0},
        {"unit": "Legal", "people": 5, "internal": 1, "external": 0, "ei": -1.0},
        {"unit": "Tax", "people": 5, "internal": 3, "external": 2, "ei": -0.2},
    ]
    # a1 - d0 (the mention) ties Audit to Deals, which is too small to be shown
    assert found["links"] == [{"units": ["Audit", "Tax"], "weight": 2}]
    assert found["neverTalk"] == [["Audit", "Legal"], ["Legal", "Tax"]]
    assert found["tooFewPeople"] == ["Deals"]


def test_person_level_measures():
    activity = scripted()
    graph = network.person_graph(activity, 90, walled=set())
    units = network.unit_of(activity, "department")
    sizes = network.unit_sizes(activity, "department", set())
    assert network.key_person_risk(graph, units, sizes, 5) == [
        {"unit": "Audit", "people": ["a0", "a1"]},
        {"unit": "Tax", "people": ["t0"]},
    ]
    brokers = network.brokers(graph)
    assert [b["person"] for b in brokers] == ["t0"]  # the only one between others
    # of the 28 pairs of the 8 others, one (t1, a0) meets only through t0
    assert brokers[0]["betweenness"] == round(1 / 28, 4)
    assert network.choke_points(activity, 90, set()) == [{"person": "d0", "threads": 1}]


def test_ethical_walls_take_people_out_of_every_cross_unit_figure():
    activity = scripted()
    walled = {"t0"}
    answer = analyse(activity, "department", 90, 5, walled)
    assert answer["silos"] == {
        "units": [
            {"unit": "Audit", "people": 5, "internal": 0, "external": 1, "ei": 1.0},
            {"unit": "Legal", "people": 5, "internal": 1, "external": 0, "ei": -1.0},
        ],
        "links": [],  # Tax's only bridge was t0; Deals is not shown
        "neverTalk": [["Audit", "Legal"]],
        "tooFewPeople": ["Deals", "Tax"],  # Tax without t0 holds four people
    }
    assert answer["personLevel"]["brokers"] == []
    assert answer["personLevel"]["keyPersonRisk"] == [{"unit": "Audit", "people": ["a1"]}]


def test_a_graph_of_fewer_people_than_the_threshold_is_withheld():
    activity = scripted()
    assert analyse(activity, "office", 90, 50, set()) == {
        "unitKind": "office",
        "days": 90,
        "withheld": "too few people",
    }


def test_burts_constraint_agrees_with_networkx():
    import networkx as nx

    graph = nx.Graph()
    ties = [
        ("a", "b", 3),
        ("a", "c", 1),
        ("b", "c", 2),
        ("c", "d", 5),
        ("d", "e", 1),
        ("a", "e", 2),
    ]
    for first, second, weight in ties:
        graph.add_edge(first, second, weight=weight)
    theirs = nx.constraint(graph, weight="weight")
    for node in graph:
        assert round(network.constraint(graph, node), 9) == round(theirs[node], 9)


def test_writing_in_a_documents_room_ties_its_writers_like_commenting():
    activity = scripted()
    at = stamp(NOW - timedelta(days=1))
    old = stamp(NOW - timedelta(days=100))
    activity.document_messages = [
        (("drive", "legal"), "l2", at),  # joins l0 and l1 on Legal's document
        (("drive", "legal"), "a4", old),  # before the 90 days: nothing
    ]
    graph = network.person_graph(activity, 90, walled=set())
    assert sorted(graph.neighbors("l2")) == ["l0", "l1"]
    assert "a4" not in graph
