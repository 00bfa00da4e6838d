"""A scalar reverse-mode automatic differentiation engine, in the spirit of micrograd.

Each `Value` holds a number (`data`), the derivative of the final output with respect to it
(`grad`), and the values it was computed from. Arithmetic builds the computational graph;
`backward()` visits it in reverse topological order and applies the chain rule at every node,
adding (not assigning) into `grad`, so a value used twice receives both contributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Number = int | float


class Value:
    """A scalar node of a computational graph.

    data: the number.  grad: d(output)/d(this value), filled in by `backward()` on the output.
    label: an optional name shown by `draw_graph`.
    """

    def __init__(self, data: Number, _children: tuple[Value, ...] = (), _op: str = "",
                 label: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._prev = _children
        self._op = _op
        self.label = label
        # Adds this node's share of the chain rule into its children's grads; set by each operation.
        self._backward: Callable[[], None] = lambda: None

    # ------------------------------------------------------------------ operations
    def __add__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = _as_value(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if not isinstance(exponent, (int, float)):
            raise TypeError("Value ** supports a plain number as the exponent, e.g. x ** 2")
        out = Value(self.data**exponent, (self,), f"**{exponent:g}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def _unary(self, value: float, local_grad: float, op: str) -> Value:
        """A one-input operation with output `value` and derivative `local_grad`."""
        out = Value(value, (self,), op)

        def _backward() -> None:
            self.grad += local_grad * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Value:
        if self.data <= 0:
            raise ValueError(f"log of a non-positive number ({self.data})")
        return self._unary(math.log(self.data), 1 / self.data, "log")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return self._unary(t, 1 - t * t, "tanh")

    def relu(self) -> Value:
        return self._unary(max(self.data, 0.0), float(self.data > 0), "relu")

    def sigmoid(self) -> Value:
        s = 0.5 * (1 + math.tanh(0.5 * self.data))  # stable for large |x|
        return self._unary(s, s * (1 - s), "sigmoid")

    def __neg__(self) -> Value:
        return self * -1

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-_as_value(other))

    def __truediv__(self, other: Value | Number) -> Value:
        return self * _as_value(other) ** -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return _as_value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return _as_value(other) / self

    # ------------------------------------------------------------------ the backward pass
    def topological_order(self) -> list[Value]:
        """Every node this value depends on, each after all of its inputs (iterative DFS, so deep
        graphs do not hit Python's recursion limit)."""
        order: list[Value] = []
        visited: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in visited)
        return order

    def backward(self) -> None:
        """Fill `grad` of every node in the graph with d(self)/d(node).

        As in PyTorch, the inputs (leaves: values not computed from others) accumulate across
        calls, so call `zero_grad()` before a second `backward()`; intermediate nodes are reset on
        every call, so a second call adds exactly one more copy of each gradient to the leaves.
        """
        order = self.topological_order()
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad = 1.0
        for node in reversed(order):
            node._backward()

    def zero_grad(self) -> None:
        """Set `grad` to 0 on this value and everything it was computed from."""
        for node in self.topological_order():
            node.grad = 0.0

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.4g}, grad={self.grad:.4g})"


def _as_value(x: Value | Number) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)):
        return Value(x)
    raise TypeError(f"cannot combine a Value with {type(x).__name__}")


def graph_layout(root: Value) -> tuple[dict[int, tuple[float, float]], list[tuple[Value, Value]]]:
    """Positions for drawing: x = column, y = row; every node sits left of the nodes that use it.

    Each node is placed one column before its nearest user (so an input such as a weight appears
    next to the operation that reads it, not far away in column 0), and within a column nodes are
    ordered and placed near the mean height of their users, which keeps a chain of operations on
    one horizontal line. The root is in the last column.
    Returns ({id(node): (x, y)}, [(child, parent) edges]); an input used twice by the same
    operation (as in d * d) gives two identical edges.
    """
    order = root.topological_order()
    steps_to_root: dict[int, int] = {id(root): 0}
    for node in reversed(order):  # users come before their inputs in this reversed order
        for child in node._prev:
            steps_to_root[id(child)] = max(steps_to_root.get(id(child), 0), steps_to_root[id(node)] + 1)
    last = max(steps_to_root.values())
    columns: dict[int, list[Value]] = {}
    for node in order:
        columns.setdefault(last - steps_to_root[id(node)], []).append(node)
    users: dict[int, list[Value]] = {}
    for node in order:
        for child in node._prev:
            users.setdefault(id(child), []).append(node)
    positions: dict[int, tuple[float, float]] = {}
    for x in range(last, -1, -1):  # from the root leftwards: users are placed before their inputs
        nodes = columns.get(x, [])
        wanted = [sum(positions[id(u)][1] for u in users[id(n)]) / len(users[id(n)])
                  if id(n) in users else 0.0 for n in nodes]
        ranked = sorted(range(len(nodes)), key=lambda i: -wanted[i])  # stable: ties keep their order
        ys: list[float] = []
        for i in ranked:  # top to bottom, at least one row apart
            ys.append(wanted[i] if not ys else min(wanted[i], ys[-1] - 1.0))
        shift = sum(wanted) / len(nodes) - sum(ys) / len(nodes) if nodes else 0.0
        for i, y in zip(ranked, ys, strict=True):
            positions[id(nodes[i])] = (float(x), y + shift)
    edges = [(child, node) for node in order for child in node._prev]
    return positions, edges


def draw_graph(root: Value, ax=None):
    """Draw the computational graph that produced `root` with matplotlib (no graphviz needed).

    Each box shows a value's label, data and grad; the operation that made it is the small circle
    just left of its box; arrows run from inputs to outputs. An input used twice by the same
    operation (d * d) gets two arrows, curved apart. Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt  # only here: the engine itself needs no plotting

    positions, edges = graph_layout(root)
    nodes = {id(n): n for n in root.topological_order()}
    xs = [x for x, _ in positions.values()]
    ys = [y for _, y in positions.values()]
    width, height = max(xs) + 1, max(ys) - min(ys) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(1.45 * width + 0.4, 0.72 * height + 0.5))
    box_half, op_x = 0.2, 0.47  # box half-width and the operation's offset, in column widths
    pairs = [(id(child), id(parent)) for child, parent in edges]
    seen: dict[tuple[int, int], int] = {}
    for (child, parent), pair in zip(edges, pairs, strict=True):
        (x0, y0), (x1, y1) = positions[id(child)], positions[id(parent)]
        k = seen[pair] = seen.get(pair, -1) + 1
        repeats = pairs.count(pair)  # 2 for d * d: draw the two arrows curved apart
        rad = 0.0 if repeats == 1 else 0.6 * (k / (repeats - 1) - 0.5)
        ax.annotate("", xy=(x1 - op_x - 0.05, y1), xytext=(x0 + box_half, y0), zorder=1,
                    arrowprops={"arrowstyle": "->", "color": "0.45", "lw": 1,
                                "connectionstyle": f"arc3,rad={rad}", "shrinkA": 0, "shrinkB": 0})
    for key, (x, y) in positions.items():
        node = nodes[key]
        name = f"{node.label} " if node.label else ""
        ax.text(x, y, f"{name}{node.data:.4g}\ngrad {node.grad:.4g}", ha="center", va="center",
                fontsize=9, zorder=3,
                bbox={"boxstyle": "round,pad=0.35", "fc": "#eef4fb", "ec": "#3b6ea8"})
        if node._op:
            ax.plot([x - op_x, x - box_half], [y, y], color="0.45", lw=1, zorder=1)
            ax.text(x - op_x, y, node._op, ha="center", va="center", fontsize=9, color="#b3472d",
                    fontweight="bold", zorder=3,
                    bbox={"boxstyle": "circle,pad=0.12", "fc": "white", "ec": "#b3472d"})
    ax.set_xlim(-0.75, width - 0.5)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.axis("off")
    return ax
