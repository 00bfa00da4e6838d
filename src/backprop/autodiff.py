"""A scalar reverse-mode automatic differentiation engine, in the spirit of micrograd. Taught in
chapter 2; chapter 12 compares it with PyTorch's autograd. Drawing a graph: `backprop.graph`.

Each `Value` holds a number (`data`), the derivative of the final output with respect to it
(`grad`), and the values it was computed from. Arithmetic builds the computational graph;
`backward()` visits it in reverse topological order and applies the chain rule at every node,
adding (not assigning) into `grad`, so a value used twice receives both contributions.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Number = int | float


class Value:
    """A scalar node of a computational graph.

    data: the number.  grad: d(output)/d(this value), filled in by `backward()` on the output.
    label: an optional name shown by `graph.draw_graph`.
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
        """Every node this value depends on, each after all of its inputs."""
        return topological_order(self)

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


def topological_order(root: Any) -> list[Any]:
    """Every node `root` depends on through `_prev`, each after all of its inputs, root last
    (iterative DFS, so deep graphs do not hit Python's recursion limit). Value and Tensor share it."""
    order: list[Any] = []
    visited: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
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


def _as_value(x: Value | Number) -> Value:
    if isinstance(x, Value):
        return x
    if isinstance(x, (int, float)):
        return Value(x)
    raise TypeError(f"cannot combine a Value with {type(x).__name__}")
