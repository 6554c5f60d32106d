"""Who discusses with whom, from an Activity already trimmed for the viewer (activity.py).

The person graph is undirected and weighted: a reply ties the replier to the parent's author,
a mention ties the writer to the person mentioned, and commenting on the same document (or
writing in its chat room) ties every pair of its commenters (once per document; its 30 most
active commenters at most).
Members of the ethical-walls groups are left out of the graph before anything is measured, so
their activity never appears in any cross-unit figure. Pure: no SQL, no request.

Measures:
- per unit (department or office): its internal and external tie weights and the E-I index
  (E - I) / (E + I), from -1 (talks only inside) to +1 (only outside); units holding fewer
  than `min_group` people are not measured ("too few people");
- pairs of measured units with no tie at all (the practices that never talk to each other);
- person level, for admins only (views.py enforces and audits it): brokers (betweenness, with
  `k` sampled pivots when the graph is large; Burt's constraint), key-person risk (units whose
  cross-unit ties pass through one or two people) and choke points (unanswered threads
  mentioning exactly one person, who has not replied).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from itertools import combinations

import networkx as nx

from overlay_app.insights.activity import Activity, stamp

SAMPLE_ABOVE = 200  # people: above this, betweenness uses SAMPLE_PIVOTS sampled pivots
SAMPLE_PIVOTS = 100
# Commenters of one document tied pairwise: its CO_COMMENTERS_CAP most active ones only, so
# that a document everyone commented on does not cost its commenters squared.
CO_COMMENTERS_CAP = 30
TOP_PEOPLE = 10
UNIT_FIELDS = {"department": 0, "office": 1}


def person_graph(activity: Activity, days: int, walled: set[str]) -> nx.Graph:
    """The who-discusses-with-whom graph of the last `days`, without the walled people."""
    since = stamp(activity.now - timedelta(days=days))
    comments = [c for c in activity.comments if c.at >= since]
    authors = {c.id: c.author for c in activity.comments}
    weights: Counter[tuple[str, str]] = Counter()
    commenters: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for comment in comments:
        commenters[comment.key][comment.author] += 1
        if comment.parent_id in authors:
            weights[_pair(comment.author, authors[comment.parent_id])] += 1
        for mentioned in activity.mentions.get(comment.id, ()):
            weights[_pair(comment.author, mentioned)] += 1
    for key, author, at in activity.document_messages:  # writing in its room: discussing it
        if at >= since:
            commenters[key][author] += 1
    for counts in commenters.values():
        busiest = sorted(counts, key=lambda person: (-counts[person], person))
        for first, second in combinations(sorted(busiest[:CO_COMMENTERS_CAP]), 2):
            weights[(first, second)] += 1
    graph = nx.Graph()
    for (first, second), weight in weights.items():
        if first != second and first not in walled and second not in walled:
            graph.add_edge(first, second, weight=weight)
    return graph


def _pair(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def unit_of(activity: Activity, unit_kind: str) -> dict[str, str]:
    index = UNIT_FIELDS[unit_kind]
    return {p: unit[index] for p, unit in activity.units.items() if unit[index]}


def unit_sizes(activity: Activity, unit_kind: str, walled: set[str]) -> Counter[str]:
    return Counter(u for p, u in unit_of(activity, unit_kind).items() if p not in walled)


def silos(graph: nx.Graph, units: dict[str, str], sizes: Counter[str], min_group: int) -> dict:
    """E-I index per unit, the unit-to-unit tie weights and the pairs that never talk."""
    measured = sorted(u for u, n in sizes.items() if n >= min_group)
    internal: Counter[str] = Counter()
    external: Counter[str] = Counter()
    between: Counter[tuple[str, str]] = Counter()
    for first, second, data in graph.edges(data=True):
        one, two = units.get(first), units.get(second)
        if one is None or two is None:
            continue
        if one == two:
            internal[one] += data["weight"]
        else:
            external[one] += data["weight"]
            external[two] += data["weight"]
            between[_pair(one, two)] += data["weight"]
    rows = []
    for unit in measured:
        e, i = external[unit], internal[unit]
        ei = round((e - i) / (e + i), 3) if e + i else None
        rows.append({"unit": unit, "people": sizes[unit], "internal": i, "external": e, "ei": ei})
    shown = set(measured)
    links = [
        {"units": [a, b], "weight": w} for (a, b), w in sorted(between.items())
        if a in shown and b in shown
    ]  # fmt: skip
    never = [[a, b] for a, b in combinations(measured, 2) if not between[(a, b)]]
    too_few = sorted(u for u, n in sizes.items() if n < min_group)
    return {"units": rows, "links": links, "neverTalk": never, "tooFewPeople": too_few}


def brokers(graph: nx.Graph, seed: int = 0) -> list[dict]:
    """The people most often on the shortest paths between others (betweenness; sampled
    pivots above SAMPLE_ABOVE people), with Burt's constraint (low: spans separate groups)."""
    if graph.number_of_nodes() < 3:
        return []
    n = graph.number_of_nodes()
    k = SAMPLE_PIVOTS if n > SAMPLE_ABOVE else None
    centrality = nx.betweenness_centrality(graph, k=k, seed=seed if k else None)
    top = sorted(centrality.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_PEOPLE]
    top = [(person, score) for person, score in top if score > 0]
    return [
        {"person": p, "betweenness": round(s, 4), "constraint": round(constraint(graph, p), 4)}
        for p, s in top
    ]


def constraint(graph: nx.Graph, node: str) -> float:
    """Burt's constraint of `node`: the sum over its contacts j of (p_ij + sum over shared
    contacts q of p_iq * p_qj)^2, where p_ij is j's share of i's tie weight. networkx's own
    recomputes every share from scratch, which a dense graph of co-commenters makes minutes
    long; this one reads each share once (tests check the two agree)."""
    mine = _shares(graph, node)
    around = {contact: _shares(graph, contact) for contact in mine}
    total = 0.0
    for contact, direct in mine.items():
        indirect = sum(mine[q] * around[q].get(contact, 0.0) for q in mine if q != contact)
        total += (direct + indirect) ** 2
    return total


def _shares(graph: nx.Graph, node: str) -> dict[str, float]:
    weights = {other: data["weight"] for other, data in graph[node].items() if other != node}
    whole = sum(weights.values())
    return {other: weight / whole for other, weight in weights.items()}


def key_person_risk(
    graph: nx.Graph, units: dict[str, str], sizes: Counter[str], min_group: int
) -> list[dict]:
    """Measured units whose ties to other units all pass through one or two of their people."""
    carriers: dict[str, set[str]] = defaultdict(set)
    for first, second in graph.edges():
        one, two = units.get(first), units.get(second)
        if one and two and one != two:
            carriers[one].add(first)
            carriers[two].add(second)
    return [
        {"unit": unit, "people": sorted(people)}
        for unit, people in sorted(carriers.items())
        if sizes[unit] >= min_group and 1 <= len(people) <= 2
    ]


def choke_points(activity: Activity, days: int, walled: set[str]) -> list[dict]:
    """People on whom unanswered threads wait: threads of the last `days` that nobody but
    their author answered and whose comments mention exactly one person (not the author)."""
    since = stamp(activity.now - timedelta(days=days))
    authors = {c.id: c.author for c in activity.comments}
    answered = {
        c.parent_id for c in activity.comments
        if c.parent_id in authors and c.author != authors[c.parent_id]
    }  # fmt: skip
    waiting: Counter[str] = Counter()
    for thread in activity.comments:
        if thread.parent_id is not None or thread.at < since or thread.id in answered:
            continue
        named = activity.mentions.get(thread.id, set()) - {thread.author}
        if len(named) == 1:
            (person,) = named
            if person not in walled:
                waiting[person] += 1
    ranked = sorted(waiting.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP_PEOPLE]
    return [{"person": person, "threads": count} for person, count in ranked]
