"""Discovering and loading packs: folders, entry points, dependencies, failures."""
from __future__ import annotations

import importlib.metadata
import sys

import pytest

from runtime.config import ROOT
from runtime.packs.discovery import ENTRY_POINT_GROUP
from tests.runtime.test_packs_support import BUILTIN_PACKS, bare_app, write_pack


@pytest.fixture
def make_app(tmp_path):
    """Apps without a database behind them: loading needs none (``sqlite://`` in memory)."""

    def build(**overrides):
        return bare_app("sqlite://", tmp_path / "var", **overrides)

    return build


@pytest.fixture
def packs_dir(tmp_path):
    folder = tmp_path / "packs"
    folder.mkdir()
    return folder


def test_a_pack_in_an_extension_folder_is_loaded(make_app, packs_dir):
    write_pack(packs_dir, "acme")

    app = make_app(extension_dirs=(packs_dir,))

    registry = app.extensions["vectis.registry"]
    entry = registry.get("acme.predicate_function.always")
    assert entry is not None and entry.label == "Always" and entry.value() is True
    assert registry.names("predicate_function") == {"acme.predicate_function.always"}
    assert app.extensions["vectis.pack_failures"] == {}
    assert list(app.extensions["vectis.packs"]) == sorted({"acme", *BUILTIN_PACKS})


def test_the_builtin_flat_rate_pack_is_loaded(make_app):
    app = make_app()

    registry = app.extensions["vectis.registry"]
    assert registry.names("shipping_rate_provider") == {"flat_rate_shipping.shipping_rate_provider.flat_rate"}
    entry = registry.get("flat_rate_shipping.shipping_rate_provider.flat_rate")
    assert entry.label == "Flat rate" and entry.config_schema["required"] == ["rates"]


def test_the_example_pack_loads_from_an_extension_folder(make_app):
    app = make_app(extension_dirs=(ROOT / "examples",))

    registry = app.extensions["vectis.registry"]
    assert app.extensions["vectis.pack_failures"] == {}
    assert registry.names("predicate_function") == {"example_pack.predicate_function.is_gift_wrappable"}
    assert registry.names("effect_action") == {"example_pack.effect_action.log_transition"}


def test_a_pack_advertised_by_an_entry_point_is_loaded(make_app, tmp_path, monkeypatch):
    site = tmp_path / "site"
    write_pack(site, "acme_dist_pack", manifest="""
        name: acme_ep
        version: 2.1.0
        description: installed from a distribution
        provides: {predicate_function: [always]}
    """)
    monkeypatch.syspath_prepend(str(site))
    real = importlib.metadata.entry_points
    fake = importlib.metadata.EntryPoint(name="acme_ep", value="acme_dist_pack", group=ENTRY_POINT_GROUP)

    def entry_points(**params):
        return [fake] if params.get("group") == ENTRY_POINT_GROUP else real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)

    app = make_app()

    assert app.extensions["vectis.pack_failures"] == {}
    assert app.extensions["vectis.registry"].get("acme_ep.predicate_function.always") is not None
    pack = app.extensions["vectis.packs"]["acme_ep"]
    assert pack.manifest.version == "2.1.0"
    assert pack.origin == "entry point acme_ep = acme_dist_pack"
    sys.modules.pop("acme_dist_pack", None)


def test_a_pack_whose_register_raises_halfway_leaves_no_entries(make_app, packs_dir):
    write_pack(packs_dir, "halfway", provides={"predicate_function": ["first", "second"]}, code="""
        def register(pack):
            pack.register("predicate_function", "first", lambda fact: True, label="First")
            raise RuntimeError("cannot reach the vendor")
    """)

    app = make_app(extension_dirs=(packs_dir,))

    registry = app.extensions["vectis.registry"]
    assert registry.names("predicate_function") == set()
    assert app.extensions["vectis.pack_failures"] == {
        "halfway": "register() failed: RuntimeError: cannot reach the vendor"
    }
    assert "halfway" not in app.extensions["vectis.packs"]
    assert "flat_rate_shipping" in app.extensions["vectis.packs"]


def test_registering_something_the_manifest_does_not_declare_fails_naming_both(make_app, packs_dir):
    write_pack(packs_dir, "sloppy", provides={"predicate_function": ["declared"]}, code="""
        def register(pack):
            pack.register("predicate_function", "undeclared", lambda fact: True, label="Undeclared")
    """)

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {
        "sloppy": "registered predicate_function.undeclared but manifest.yaml provides does not declare it;"
        " manifest.yaml provides predicate_function.declared but register() did not register it"
    }
    assert app.extensions["vectis.registry"].names("predicate_function") == set()


def test_a_value_that_does_not_fit_its_slot_is_refused(make_app, packs_dir):
    write_pack(packs_dir, "lazy", provides={"shipping_rate_provider": ["free"]}, code="""
        class Free:
            def price(self, request, config):
                return []

        def register(pack):
            pack.register("shipping_rate_provider", "free", Free(), label="Free")
    """)

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {
        "lazy": "register() failed: lazy.shipping_rate_provider.free: expected a ShippingRateProvider (methods quote); Free lacks quote"
    }


def test_an_unknown_slot_in_provides_is_refused_with_a_suggestion(make_app, packs_dir):
    write_pack(packs_dir, "typo", provides={"shiping_rate_provider": ["x"]})

    app = make_app(extension_dirs=(packs_dir,))

    message = app.extensions["vectis.pack_failures"]["typo"]
    assert message.endswith(
        "typo/manifest.yaml: provides.shiping_rate_provider: unknown slot 'shiping_rate_provider'"
        " (did you mean 'shipping_rate_provider'?)"
    )


def test_packs_load_after_the_packs_they_require(make_app, packs_dir):
    write_pack(packs_dir, "aa_child", requires={"packs": ["zz_parent"]})
    write_pack(packs_dir, "zz_parent")

    app = make_app(extension_dirs=(packs_dir,))

    assert list(app.extensions["vectis.packs"]) == [*sorted(BUILTIN_PACKS), "zz_parent", "aa_child"]
    assert app.extensions["vectis.pack_failures"] == {}


def test_a_missing_dependency_fails_the_pack_and_its_dependents(make_app, packs_dir):
    write_pack(packs_dir, "needy", requires={"packs": ["ghost"]})
    write_pack(packs_dir, "needier", requires={"packs": ["needy"]})

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {
        "needy": "requires pack 'ghost', which is not installed",
        "needier": "requires pack 'needy', which failed to load",
    }
    assert app.extensions["vectis.registry"].names("predicate_function") == set()


def test_a_dependency_cycle_fails_every_pack_in_it(make_app, packs_dir):
    write_pack(packs_dir, "egg", requires={"packs": ["hen"]})
    write_pack(packs_dir, "hen", requires={"packs": ["egg"]})

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {
        "egg": "dependency cycle among packs egg, hen",
        "hen": "dependency cycle among packs egg, hen",
    }


def test_a_pack_needing_a_newer_vectis_is_not_loaded(make_app, packs_dir):
    write_pack(packs_dir, "future", requires={"vectis": ">=99.0"})

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {"future": "requires vectis >=99.0, this is 0.1.0"}


def test_a_bad_manifest_names_the_file_the_line_and_every_field(make_app, packs_dir):
    write_pack(packs_dir, "broken", manifest="""
        name: broken
        version: "1"
        provides:
          predicate_function: [always]
        colour: blue
    """)

    app = make_app(extension_dirs=(packs_dir,))

    path = packs_dir / "broken" / "manifest.yaml"
    assert app.extensions["vectis.pack_failures"] == {
        "broken": f"{path}:1:1: description: is required;"
        f" {path}:5:1: colour: unknown field;"
        f" {path}:2:10: version: '1' is not a version (major.minor[.patch])"
    }
    assert "broken" not in app.extensions["vectis.packs"]


def test_malformed_manifest_yaml_is_reported_with_its_position(make_app, packs_dir):
    write_pack(packs_dir, "garbled", manifest="name: garbled\nversion: [1.0\n")

    app = make_app(extension_dirs=(packs_dir,))

    message = app.extensions["vectis.pack_failures"]["garbled"]
    assert message.startswith(f"{packs_dir / 'garbled' / 'manifest.yaml'}:")
    assert "malformed YAML" in message


def test_a_folder_whose_name_differs_from_the_manifest_is_refused(make_app, packs_dir):
    write_pack(packs_dir, "folder_name", manifest="""
        name: other_name
        version: 1.0.0
        description: misnamed
    """)

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {
        "folder_name": f"{packs_dir / 'folder_name' / 'manifest.yaml'}: name: 'other_name' differs from the folder name 'folder_name'"
    }


def test_the_same_pack_found_twice_is_loaded_from_neither(make_app, tmp_path):
    write_pack(tmp_path / "one", "twin")
    write_pack(tmp_path / "two", "twin")

    app = make_app(extension_dirs=(tmp_path / "one", tmp_path / "two"))

    assert app.extensions["vectis.pack_failures"] == {
        "twin": f"pack 'twin' found twice: folder {tmp_path / 'one' / 'twin'} and folder {tmp_path / 'two' / 'twin'}"
    }
    assert "twin" not in app.extensions["vectis.packs"]


def test_disabled_packs_are_neither_imported_nor_failed(make_app, packs_dir):
    write_pack(packs_dir, "switched_off", code="raise RuntimeError('must not be imported')\n")

    app = make_app(extension_dirs=(packs_dir,), disabled_packs=BUILTIN_PACKS | {"switched_off"})

    assert app.extensions["vectis.pack_failures"] == {}
    assert list(app.extensions["vectis.packs"]) == []
    assert app.extensions["vectis.registry"].names("shipping_rate_provider") == set()


def test_a_pack_requiring_a_disabled_pack_is_not_loaded(make_app, packs_dir):
    write_pack(packs_dir, "base")
    write_pack(packs_dir, "addon", requires={"packs": ["base"]})

    app = make_app(extension_dirs=(packs_dir,), disabled_packs=frozenset({"base"}))

    assert app.extensions["vectis.pack_failures"] == {"addon": "requires pack 'base', which is disabled"}


def test_a_pack_that_cannot_be_imported_is_reported(make_app, packs_dir):
    write_pack(packs_dir, "syntax", code="def register(pack)\n    pass\n")

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"]["syntax"].startswith(
        "cannot import vectis_packs.syntax: SyntaxError: expected ':'"
    )


def test_a_pack_without_register_is_reported(make_app, packs_dir):
    write_pack(packs_dir, "empty", code="")

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {"empty": "vectis_packs.empty has no register(pack) function"}


def test_a_pack_may_import_its_own_modules_relatively(make_app, packs_dir):
    folder = write_pack(packs_dir, "modular", code="""
        from .helpers import always

        def register(pack):
            pack.register("predicate_function", "always", always, label="Always")
    """)
    (folder / "helpers.py").write_text("def always(*args):\n    return True\n")

    app = make_app(extension_dirs=(packs_dir,))

    assert app.extensions["vectis.pack_failures"] == {}
    assert app.extensions["vectis.registry"].get("modular.predicate_function.always").value() is True
