"""Query depth and cost limits, as GraphQL validation rules with messages that name the limit.

Both walk each fragment once: a fragment's depth and cost are memoised per document, so a
fragment spread twice at every one of 27 levels costs 27 walks, not 2²⁷. Costs are capped just
above the limit while adding up, so the numbers stay small and the answer is the same.
"""
from __future__ import annotations

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    ValidationContext,
)


class Measure:
    """Depth and cost of selection sets in one document, each fragment measured once.

    ``walked`` counts selection sets visited, so a test can assert the work is linear."""

    def __init__(self, context: ValidationContext, cap: int):
        self.context = context
        self.cap = cap
        self.walked = 0
        self._fragments: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()

    def selection_set(self, selection_set) -> tuple[int, int]:
        """(depth below this set, cost of this set), introspection fields free and flat."""
        if selection_set is None:
            return 0, 0
        self.walked += 1
        depth = cost = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                below, below_cost = self.selection_set(selection.selection_set)
                depth, cost = max(depth, below + 1), cost + 1 + below_cost
            elif isinstance(selection, InlineFragmentNode):
                below, below_cost = self.selection_set(selection.selection_set)
                depth, cost = max(depth, below), cost + below_cost
            elif isinstance(selection, FragmentSpreadNode):
                below, below_cost = self.fragment(selection.name.value)
                depth, cost = max(depth, below), cost + below_cost
            cost = min(cost, self.cap)
        return depth, cost

    def fragment(self, name: str) -> tuple[int, int]:
        found = self._fragments.get(name)
        if found is not None:
            return found
        fragment = self.context.get_fragment(name)
        if fragment is None or name in self._open:  # unknown or cyclic: other rules report it
            return 0, 0
        self._open.add(name)
        found = self._fragments[name] = self.selection_set(fragment.selection_set)
        self._open.discard(name)
        return found


def _measure(context: ValidationContext, cap: int) -> Measure:
    """One :class:`Measure` per validation of a document, shared by the depth and cost rules."""
    measure = getattr(context, "_vectis_measure", None)
    if measure is None or measure.cap < cap:
        measure = Measure(context, cap)
        context._vectis_measure = measure
    return measure


def _operation(node: OperationDefinitionNode) -> str:
    return node.name.value if node.name else "anonymous"


def depth_limit(max_depth: int, max_cost: int = 10**9) -> type[ASTValidationRule]:
    class DepthLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            depth, _cost = _measure(self.context, max_cost + 1).selection_set(node.selection_set)
            if depth > max_depth:
                self.report_error(GraphQLError(
                    f"query depth {depth} exceeds the limit of {max_depth} (operation {_operation(node)})", node,
                    extensions={"code": "QUERY_TOO_DEEP", "depth": depth, "maxDepth": max_depth}))

    return DepthLimit


def cost_limit(max_cost: int) -> type[ASTValidationRule]:
    """Cost is one per selected field, fragments expanded (introspection is free): it depends only
    on the text, so it is checked with the other rules once per operation text. Above the limit
    the reported cost is "more than the limit" (the walk stops counting there)."""

    class CostLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            _depth, cost = _measure(self.context, max_cost + 1).selection_set(node.selection_set)
            if cost > max_cost:
                self.report_error(GraphQLError(
                    f"query cost exceeds the maximum cost of {max_cost} (operation {_operation(node)})", node,
                    extensions={"code": "QUERY_TOO_COSTLY", "maxCost": max_cost}))

    return CostLimit
