"""Inline string literals get the same check as string variables (:func:`edge.string_problem`),
as a validation rule: it depends only on the text, so it runs once per cached operation."""
from __future__ import annotations

from graphql import ArgumentNode, ASTValidationRule, FieldNode, GraphQLError, ObjectFieldNode, StringValueNode, \
    VariableDefinitionNode

from runtime.graphql.edge import string_problem


class StringLiterals(ASTValidationRule):
    """``BAD_USER_INPUT`` naming the argument path (``createCart.input.email``) of a literal
    holding NUL, a lone surrogate, or more than the documented length."""

    def enter_string_value(self, node: StringValueNode, _key, parent, _path, ancestors) -> None:
        problem = string_problem(node.value)
        if problem is None:
            return
        names = []
        for item in [*ancestors, parent]:
            if isinstance(item, FieldNode):
                names = [item.name.value]  # the innermost field the literal is an argument of
            elif isinstance(item, (ArgumentNode, ObjectFieldNode)):
                names.append(item.name.value)
            elif isinstance(item, VariableDefinitionNode):
                names = [f"${item.variable.name.value} (default)"]
        where = ".".join(names) or "string"
        self.report_error(GraphQLError(f"{where}: {problem}", node, extensions={"code": "BAD_USER_INPUT"}))
