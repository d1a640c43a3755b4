"""The ``label`` kind: a product badge shown when a predicate over the product holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.environment import Environment
from rules.errors import AuthorError
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Explanation, Predicate, compile_predicate

#: The fact a label's ``when`` reads.
FACT = "product"


@dataclass(frozen=True)
class Label:
    name: str
    text: str
    predicate: Predicate
    color: str | None = None
    icon: str | None = None
    priority: int = 0

    def applies(self, product: dict[str, Any]) -> bool:
        return self.predicate(product)

    def explain(self, product: dict[str, Any]) -> Explanation:
        return self.predicate.explain(product)


def compile_label(doc: ParsedDefinition, env: Environment) -> Label | None:
    display = doc.data["label"]
    predicate = compile_predicate(doc.data["when"], "/when", fact=FACT, env=env,
                                  report=doc.report)
    if predicate is None:
        return None
    return Label(doc.name, display["text"], predicate, display.get("color"),
                 display.get("icon"), display.get("priority", 0))


def run_examples(label: Label, examples: list[dict], env: Environment) -> list[AuthorError]:
    errors = []
    for index, example in enumerate(examples):
        got = label.applies(example["given"])
        if got is not example["expect"]:
            explanation = label.explain(example["given"])
            failed = explanation.failures() if not got else _held_leaves(explanation)
            why = "; ".join(f"{leaf.condition} (actual: {leaf.actual!r})" for leaf in failed)
            errors.append(AuthorError(
                f"example failed: expected {str(example['expect']).lower()}, got "
                f"{str(got).lower()}" + (f": {why}" if why else ""),
                pointer=f"/examples/{index}/expect"))
    return errors


def _held_leaves(explanation: Explanation) -> list[Explanation]:
    if not explanation.children:
        return [explanation] if explanation.held else []
    return [leaf for child in explanation.children for leaf in _held_leaves(child)]


register_kind(KindSpec("label", compile_label, run_examples, label="Product label"))
