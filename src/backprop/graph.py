"""Drawing the computational graph of a `Value` (chapter 2; chapter 12 draws two): a layout
that places every node left of the nodes that use it, and a matplotlib drawing of it.

The layout is plain Python; `draw_graph` imports matplotlib when called, so importing this module
(or `backprop`) loads no plotting library. `backprop.plot` re-exports `draw_graph`.
"""

from __future__ import annotations

from typing import Any

from .autodiff import Value


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


def draw_graph(root: Value, ax: Any = None) -> Any:
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
