"""Query depth and cost limits, as GraphQL validation rules with messages that name the limit."""
from __future__ import annotations

from ariadne.validation import cost_validator
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


def validation_rules(max_depth: int, max_cost: int, variables: dict | None) -> list[type[ASTValidationRule]]:
    """Depth counts nested selections (fragments expanded); cost counts one per selected field."""
    return [depth_limit(max_depth), cost_limit(max_cost, variables)]


def cost_limit(max_cost: int, variables: dict | None) -> type[ASTValidationRule]:
    """The cost rule alone: it reads variables (``first: $n``), so it runs on every request."""
    return cost_validator(max_cost, default_cost=1, variables=variables)
