"""The domain-level graph (issue 23): every node in one domain, every edge between two
domains in one bundle, a domain coloured by its nodes' mean, a node's own edges found."""

from __future__ import annotations

import pytest

from dyadsim.app.domains import bundles, domains, node_edges
from dyadsim.model.graph import EDGE_BY_WEIGHT, EDGES, NODES
from dyadsim.reports.diagram import NodeValue, build_diagram


@pytest.fixture(scope="module")
def diagram():
    values = {n.id: NodeValue(value=0.1 * (i % 5), lo=0.0, hi=1.0)
              for i, n in enumerate(NODES)}
    return build_diagram(values, {}, "level")


def test_every_node_is_in_exactly_one_domain(diagram):
    members = [n for m in domains(diagram) for n in m.nodes]
    assert sorted(members) == sorted(n.id for n in diagram.nodes)
    assert len(domains(diagram)) < len(diagram.nodes) / 4  # a readable first sight


def test_bundles_hold_every_edge_between_domains_once(diagram):
    group = {n.id: n.group for n in diagram.nodes}
    across = [e.weight_name for e in diagram.edges if group[e.source] != group[e.target]]
    bundled = [w for b in bundles(diagram) for w in b.edges]
    assert sorted(bundled) == sorted(across)
    for b in bundles(diagram):
        assert b.raising == sum(EDGE_BY_WEIGHT[w].sign == "+" for w in b.edges)
        assert b.raising + b.lowering == len(b.edges)


def test_a_domain_is_coloured_by_its_nodes_mean(diagram):
    value = {n.id: n.value.value for n in diagram.nodes}
    for m in domains(diagram):
        assert m.value == pytest.approx(sum(value[n] for n in m.nodes) / len(m.nodes))


def test_a_nodes_own_edges(diagram):
    own = node_edges(diagram, "craving")
    assert own and set(own) == {e.weight_name for e in EDGES
                                if "craving" in (e.source, e.target)
                                and e.weight_name in {x.weight_name for x in diagram.edges}}
