"""Manifests, version requirements and the checks each core slot makes."""
from __future__ import annotations

from pathlib import Path

import pytest

from runtime.clock import utcnow
from runtime.jobs import PeriodicJob

from runtime.config import ROOT
from runtime.packs.api import GraphQLExtension
from runtime.packs.manifest import Manifest, PackError, load_manifest, satisfies, version_tuple
from runtime.packs.registry import Registry, RegistrationError
from runtime.packs.slots import CORE_SLOTS, declare_core_slots


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    return path


def test_a_manifest_is_read_into_a_frozen_value(tmp_path):
    path = write(tmp_path, (
        "name: acme\nversion: 1.2.0\ndescription: Acme\n"
        "requires: {vectis: '>=0.1, <2', packs: [base]}\n"
        "provides: {predicate_function: [a, b]}\n"
    ))

    manifest = load_manifest(path)

    assert manifest == Manifest(
        name="acme", version="1.2.0", description="Acme", path=tmp_path, vectis=">=0.1, <2",
        packs=("base",), provides={"predicate_function": frozenset({"a", "b"})},
    )
    assert manifest.provided == {("predicate_function", "a"), ("predicate_function", "b")}


def test_yaml_1_1_surprises_do_not_apply(tmp_path):
    path = write(tmp_path, "name: acme\nversion: 1.0.0\ndescription: no\n")

    assert load_manifest(path).description == "no"


def test_an_unknown_field_suggests_the_known_one(tmp_path):
    path = write(tmp_path, "name: acme\nversion: 1.0.0\ndescription: x\nprovide: {}\n")

    with pytest.raises(PackError) as raised:
        load_manifest(path)

    assert str(raised.value) == f"{path}:4:1: provide: unknown field (did you mean 'provides'?)"


def test_nested_fields_are_named_by_their_path(tmp_path):
    path = write(tmp_path, "name: acme\nversion: 1.0.0\ndescription: x\nrequires:\n  packs: [Base]\n")

    with pytest.raises(PackError) as raised:
        load_manifest(path)

    assert str(raised.value) == f"{path}:5:11: requires.packs.0: 'Base' does not match ^[a-z][a-z0-9_]{{1,62}}$"


def test_a_project_manifest_path_is_shown_relative_to_the_project():
    with pytest.raises(PackError) as raised:
        load_manifest(ROOT / "extensions" / "no_such_pack" / "manifest.yaml")

    assert str(raised.value) == "extensions/no_such_pack/manifest.yaml: cannot read: No such file or directory"


def test_the_shipped_manifests_are_valid():
    for path in [*(ROOT / "extensions").glob("*/manifest.yaml"), ROOT / "examples" / "example_pack" / "manifest.yaml"]:
        assert load_manifest(path).name == path.parent.name


@pytest.mark.parametrize(
    ("version", "specifier", "expected"),
    [
        ("0.1.0", ">=0.1", True),
        ("0.1.0", "==0.1", True),
        ("0.1.0", ">0.1", False),
        ("1.4.2", ">=1.2, <2", True),
        ("2.0.0", ">=1.2, <2", False),
        ("1.0.0-rc1", "<1.0.1", True),
        ("1.0.0", "!=1.0", False),
    ],
)
def test_version_requirements(version, specifier, expected):
    assert satisfies(version, specifier) is expected


def test_versions_compare_numerically():
    assert version_tuple("1.10.0") > version_tuple("1.9.3")
    assert version_tuple("0.1") == version_tuple("0.1.0")


@pytest.fixture
def registry():
    registry = Registry()
    declare_core_slots(registry)
    return registry


def test_the_core_declares_its_slots(registry):
    assert sorted(registry.slots) == sorted([s.name for s in CORE_SLOTS] + ["cart_check", "checkout_stage", "periodic_job", "tender_type"]) == [
        "cart_check", "cart_parse_provider", "checkout_stage", "definitions", "effect_action", "fact_field", "graphql", "payment_gateway",
        "periodic_job", "predicate_function", "settlement_webhook", "shipping_rate_provider", "tax_provider", "tender_type",
    ]


@pytest.mark.parametrize(
    ("slot", "value", "message"),
    [
        ("predicate_function", "not callable", "p.predicate_function.x: expected a function, got str"),
        ("graphql", "type Query { a: Int }", "p.graphql.x: expected a GraphQLExtension(sdl, bindables), got str"),
        ("graphql", GraphQLExtension("extend type Query {"), "p.graphql.x: sdl: Syntax Error: Expected Name, found <EOF>. at line 1"),
        ("effect_action", print, "p.effect_action.x: expected a runtime.state_machines.effects.Effect(func, "
                                   "in_transaction=...), got builtin_function_or_method"),
        ("definitions", "/no/such/folder", "p.definitions.x: /no/such/folder: not a folder"),
        ("periodic_job", None, "p.periodic_job.x: expected a runtime.jobs.PeriodicJob, got NoneType"),
        ("tax_provider", object(), "p.tax_provider.x: expected a TaxProvider (methods calculate); object lacks calculate"),
        ("payment_gateway", object(), "p.payment_gateway.x: expected a PaymentGateway (methods authorize, capture, refund, void);"
                                      " object lacks authorize, capture, refund, void"),
    ],
)
def test_each_slot_refuses_values_that_do_not_fit(registry, slot, value, message):
    with pytest.raises(RegistrationError) as raised:
        registry.register("p", slot, "x", value, label="X")

    assert str(raised.value) == message
    assert registry.entries(slot) == []


def test_values_that_fit_are_accepted(registry, tmp_path):
    registry.register("p", "graphql", "q", GraphQLExtension("extend type Query { hello: String }"), label="Q")
    registry.register("p", "definitions", "d", tmp_path, label="D")
    registry.register("p", "periodic_job", "j", PeriodicJob(utcnow, interval=60), label="J")

    assert registry.names("graphql") | registry.names("definitions") | registry.names("periodic_job") == {
        "p.graphql.q", "p.definitions.d", "p.periodic_job.j"
    }


def test_an_invalid_config_schema_is_refused(registry):
    with pytest.raises(RegistrationError) as raised:
        registry.register("p", "predicate_function", "x", len, label="X", config_schema={"type": "objekt"})

    assert str(raised.value).startswith("p.predicate_function.x: config_schema: type: 'objekt' is not valid")
