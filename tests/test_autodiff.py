"""The scalar engine: gradients against finite differences, reused nodes, repeated backward."""

import math

import matplotlib
import pytest

from backprop.autodiff import Value
from backprop.graph import draw_graph, graph_layout

matplotlib.use("Agg")


def numeric(f, xs, eps=1e-6):
    grads = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += eps
        down[i] -= eps
        grads.append((f(*up) - f(*down)) / (2 * eps))
    return grads


def expression(a, b, c):
    """Uses every operation; a is used three times and d twice, so gradients must add up."""
    lib = math if isinstance(a, float) else None
    def call(v, name):
        return getattr(lib, name)(v) if lib else getattr(v, name)()
    def sig(v):
        return 1 / (1 + math.exp(-v)) if lib else v.sigmoid()
    def relu(v):
        return max(v, 0.0) if lib else v.relu()
    d = a * b + c
    e = d * d - a / c + 2 ** 1 * a
    f = call(e, "tanh") + sig(d) - relu(b - 1) + call(a * a + 1, "log") + call(c * 0.3, "exp") + d ** 3
    return f / 3 - 1 + (2 - a) * (1 / b)


POINTS = [(0.5, -1.2, 2.0), (1.3, 2.0, -0.7), (-0.4, 0.9, 1.1)]


@pytest.mark.parametrize("point", POINTS)
def test_value_gradients_match_finite_differences(point):
    a, b, c = (Value(x) for x in point)
    out = expression(a, b, c)
    out.backward()
    assert out.data == pytest.approx(expression(*point))
    for got, expected in zip([a.grad, b.grad, c.grad], numeric(expression, list(point)), strict=True):
        assert got == pytest.approx(expected, rel=1e-6, abs=1e-8)


def test_node_used_twice_gets_both_contributions():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1 = 7
    y.backward()
    assert x.grad == 7.0


def test_backward_twice_after_zero_grad_gives_the_same_gradients():
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + a).tanh() * b
    out.backward()
    first = (a.grad, b.grad)
    out.zero_grad()
    out.backward()
    assert (a.grad, b.grad) == first
    out.backward()  # without zero_grad, gradients accumulate, as in PyTorch
    assert a.grad == pytest.approx(2 * first[0])


def test_a_wrong_local_derivative_fails_the_same_comparison(monkeypatch):
    def wrong_tanh(self):
        t = math.tanh(self.data)
        return self._unary(t, 1 - t, "tanh")  # the bug: should be 1 - t**2

    monkeypatch.setattr(Value, "tanh", wrong_tanh)
    point = POINTS[0]
    a, b, c = (Value(x) for x in point)
    expression(a, b, c).backward()
    expected = numeric(expression, list(point))
    assert any(g != pytest.approx(e, rel=1e-6, abs=1e-8) for g, e in zip([a.grad, b.grad, c.grad], expected,
                                                                         strict=True))


def test_deep_graph_does_not_hit_the_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**5000)


def test_errors_are_clear():
    with pytest.raises(TypeError, match="plain number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="non-positive"):
        Value(-1.0).log()
    with pytest.raises(TypeError, match="combine"):
        Value(1.0) + "1"


def test_draw_graph_places_every_node_and_edge():
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    out = (a * b + a).relu()
    out.backward()
    positions, edges = graph_layout(out)
    assert len(positions) == len(out.topological_order()) == 5
    assert len(edges) == 5
    assert all(positions[id(child)][0] < positions[id(parent)][0] for child, parent in edges)
    ax = draw_graph(out)
    assert len(ax.texts) >= 5


def test_graph_layout_puts_inputs_beside_their_user_and_keeps_a_chain_level():
    x, w, b = Value(1.5, label="x"), Value(-0.8, label="w"), Value(0.4, label="b")
    wx = w * x
    z = wx + b
    t = z.tanh()
    out = t * t  # t is used twice by the same operation
    positions, edges = graph_layout(out)
    assert sum(1 for child, parent in edges if child is t and parent is out) == 2
    # b is read only by z, so it sits one column before z, not in the first column with x and w
    assert positions[id(b)][0] == positions[id(z)][0] - 1 == positions[id(wx)][0]
    assert positions[id(x)][0] == positions[id(w)][0] == 0
    # a chain of single-input operations stays on one horizontal line
    assert positions[id(z)][1] == positions[id(t)][1] == positions[id(out)][1]
    # every node has its own place
    assert len(set(positions.values())) == len(positions)
    ax = draw_graph(out)
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == len(edges)
