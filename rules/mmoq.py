"""The ``mmoq_cap`` kind: quantity caps on the variants a predicate (or a SKU list) selects,
optionally only for some accounts, customer groups or channels.

Limits are base units (a box of 12 counts 12). Contradictory limits (a minimum above a maximum,
an increment that leaves no allowed quantity) are author errors at the limit's line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules import mmoq_limits
from rules.environment import Environment
from rules.errors import AuthorError
from rules.facts import unknown_given_fields
from rules.kinds import KindSpec, ParsedDefinition, register_kind
from rules.predicates import Predicate, compile_predicate

#: The fact ``select.when`` reads.
FACT = "variant"
#: ``scope`` keys and the customer fact key each matches (slugs).
SCOPES = {"accounts": "account", "customer_groups": "customer_group", "channels": "channel"}


@dataclass(frozen=True)
class MmoqCap:
    name: str
    limits: dict[str, Any]
    skus: frozenset[str] | None = None
    predicate: Predicate | None = None
    #: Scope key → allowed slugs; a key that is absent does not restrict.
    scope: tuple[tuple[str, frozenset[str]], ...] = ()

    def in_scope(self, customer: dict[str, Any]) -> bool:
        return all(customer.get(SCOPES[key]) in slugs for key, slugs in self.scope)

    def selects(self, variant: dict[str, Any]) -> bool:
        """One variant (the runtime selects many at once with :mod:`rules.batch`)."""
        if self.skus is not None:
            return variant.get("sku") in self.skus
        return bool(self.predicate(variant))

    def applies(self, variant: dict[str, Any], customer: dict[str, Any]) -> bool:
        return self.in_scope(customer) and self.selects(variant)


def compile_cap(doc: ParsedDefinition, env: Environment) -> MmoqCap | None:
    select, limits = doc.data["select"], doc.data["limits"]
    predicate = None
    if ("skus" in select) == ("when" in select):
        doc.report("/select", "give exactly one of 'skus' (a list of SKUs) and 'when' (a predicate over the variant)",
                   key=True)
    elif "when" in select:
        predicate = compile_predicate(select["when"], "/select/when", fact=FACT, env=env, report=doc.report)
    for name, message in mmoq_limits.contradictions(limits):
        doc.report(f"/limits/{name}", message)
    if doc.errors:
        return None
    scope = tuple((key, frozenset(doc.data.get("scope", {})[key])) for key in SCOPES if key in doc.data.get("scope", {}))
    skus = frozenset(select["skus"]) if "skus" in select else None
    return MmoqCap(doc.name, dict(limits), skus, predicate, scope)


def run_examples(cap: MmoqCap, examples: list[dict], env: Environment) -> list[AuthorError]:
    """Each example: does the cap apply to the variant and customer, and which limits does the
    quantity break under this cap alone."""
    errors = []
    for index, example in enumerate(examples):
        given, expect = example["given"], example["expect"]
        unknown = unknown_given_fields(env.facts, FACT, given["variant"], f"/examples/{index}/given/variant")
        if unknown:
            errors.extend(AuthorError(message, pointer=pointer, hint=text) for pointer, message, text in unknown)
            continue
        applies = cap.applies(given["variant"], given.get("customer", {}))
        if applies is not expect["applies"]:
            errors.append(AuthorError(f"example failed: expected applies {str(expect['applies']).lower()}, got "
                                      f"{str(applies).lower()}", pointer=f"/examples/{index}/expect/applies"))
            continue
        if not applies or "violations" not in expect:
            continue
        if "quantity" not in given:
            errors.append(AuthorError("example needs given.quantity (base units in the cart) to check violations",
                                      pointer=f"/examples/{index}/given"))
            continue
        resolved = mmoq_limits.resolve([(mmoq_limits.Source(cap.name), cap.limits)])
        found = mmoq_limits.violations(resolved, given["quantity"], ordered_30d=given.get("ordered_30d", 0),
                                       available=given.get("available"))
        got = [violation.code for violation in found]
        if got != expect["violations"]:
            detail = "; ".join(f"{v.code}: {v.name} {v.limit}, requested {v.requested}, allowed {v.allowed}"
                               for v in found)
            errors.append(AuthorError(f"example failed: expected violations {expect['violations']}, got {got}"
                                      + (f" ({detail})" if detail else ""),
                                      pointer=f"/examples/{index}/expect/violations"))
    return errors


register_kind(KindSpec("mmoq_cap", compile_cap, run_examples, label="MMOQ cap"))
