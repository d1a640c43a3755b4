from rules.facts import MISSING
from rules.predicates import compile_predicate, explain


def _compile(data, env, fact="product"):
    problems = []
    predicate = compile_predicate(data, "/when", fact=fact, env=env,
                                  report=lambda p, m, h=None, key=False: problems.append((p, m, h)))
    return predicate, problems


def test_canonical_and_alias_forms_agree(env):
    canonical, _ = _compile({"$and": [{"$gt": {"sales_30d": 100}}, {"status": "active"}]}, env)
    alias, _ = _compile({"sales_30d": {"gt": 100}, "status": "active"}, env)
    facts = [{"sales_30d": 101, "status": "active"}, {"sales_30d": 100, "status": "active"},
             {"status": "active"}, {"sales_30d": 500, "status": "draft"}]

    assert [canonical(f) for f in facts] == [True, False, False, False]
    assert [alias(f) for f in facts] == [True, False, False, False]
    assert alias.to_durable() == {"$and": [{"$gt": {"sales_30d": 100}}, {"status": "active"}]}


def test_in_exists_matches_neq_and_dotted_paths(env):
    predicate, problems = _compile({
        "category": {"in": ["shoes", "bags"]}, "sku": {"matches": "SH-[0-9]+"},
        "brand": {"exists": True}, "status": {"neq": "archived"},
        "attributes.color": "red"}, env)
    fact = {"category": "bags", "sku": "SH-12", "brand": "x", "status": "active",
            "attributes": {"color": "red"}}

    assert problems == []
    assert predicate(fact) is True
    assert predicate({**fact, "sku": "SH-12x"}) is False
    assert predicate({**fact, "attributes": {}}) is False
    assert predicate.fields == {"category", "sku", "brand", "status", "attributes.color"}


def test_nex_holds_only_on_missing_fields(env):
    predicate, _ = _compile({"$nex": {"brand": 1}}, env)

    assert (predicate({}), predicate({"brand": "x"})) == (True, False)


def test_named_predicate_function(env):
    predicate, problems = _compile({"$fn": "core.predicate.is_vip"}, env, fact="order")
    _, unknown = _compile({"$fn": "core.predicate.is_vp"}, env, fact="order")

    assert problems == []
    assert predicate({"vip": True}) is True
    assert unknown == [("/when/$fn", "unknown predicate function 'core.predicate.is_vp'",
                        "did you mean 'core.predicate.is_vip'?")]


def test_type_errors_are_all_reported(env):
    _, problems = _compile({"stock": "ten", "status": "activ", "name": {"lt": 3},
                            "price": {"gt": "cheap"}, "sku": {"matches": "("}}, env)

    assert problems == [
        ("/when/price/gt", "$gt needs a number, got 'cheap'", None),
        ("/when/sku/matches", "invalid regular expression '(': missing ), unterminated "
                              "subpattern at position 0", None),
        ("/when/stock", "'stock' is a number field of product; 'ten' is a string", None),
        ("/when/status", "'activ' is not a value of 'status' (one of 'draft', 'active', "
                         "'archived')", "did you mean 'active'?"),
        ("/when/name/lt", "$lt compares numbers, but 'name' is a string field of product", None),
    ]


def test_unknown_operator_suggests_the_alias(env):
    _, problems = _compile({"price": {"lte_": 3}}, env)

    assert problems == [("/when/price/lte_", "unknown operator 'lte_'", "did you mean 'lte'?")]


def test_explain_shows_actual_values_and_missing(env):
    predicate, _ = _compile({"sales_30d": {"gt": 100}, "stock": {"gt": 0}}, env)

    tree = explain(predicate, {"sales_30d": 12})

    assert tree.held is False
    assert [(c.condition, c.held, c.actual) for c in tree.children] == [
        ("sales_30d > 100", False, 12), ("stock > 0", False, MISSING)]
    assert tree.to_dict()["children"][1] == {"condition": "stock > 0", "held": False,
                                             "actual": "MISSING"}
