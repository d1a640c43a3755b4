"""Query depth and cost limits, as GraphQL validation rules with messages that name the limit."""
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


def depth_limit(max_depth: int) -> type[ASTValidationRule]:
    class DepthLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            depth = _depth(node.selection_set, self.context, 0, set())
            if depth > max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(
                        f"query depth {depth} exceeds the limit of {max_depth} (operation {name})",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP", "depth": depth, "maxDepth": max_depth},
                    )
                )

    return DepthLimit


def _depth(selection_set, context: ValidationContext, level: int, seen: set[str]) -> int:
    if selection_set is None:
        return level
    deepest = level
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue  # introspection does not count
            deepest = max(deepest, _depth(selection.selection_set, context, level + 1, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, context, level, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                deepest = max(deepest, _depth(fragment.selection_set, context, level, seen | {name}))
    return deepest


def cost_limit(max_cost: int) -> type[ASTValidationRule]:
    """Cost is one per selected field, fragments expanded (introspection is free): it depends only
    on the text, so it is checked with the other rules once per operation text."""

    class CostLimit(ASTValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
            cost = _cost(node.selection_set, self.context, set())
            if cost > max_cost:
                name = node.name.value if node.name else "anonymous"
                self.report_error(GraphQLError(
                    f"query cost {cost} exceeds the maximum cost of {max_cost} (operation {name})", node,
                    extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost}))

    return CostLimit


def _cost(selection_set, context: ValidationContext, seen: set[str]) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if not selection.name.value.startswith("__"):
                total += 1 + _cost(selection.selection_set, context, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, context, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = context.get_fragment(name)
            if fragment is not None and name not in seen:
                total += _cost(fragment.selection_set, context, seen | {name})
    return total
