import math
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules.batch import SMALL_BATCH, BatchEvaluator, FactTable, evaluate
from rules.batch_codegen import generate
from rules.batch_columnar import literal_prefix
from rules.conditions import Matches
from rules.environment import Environment
from rules.closures import build_test
from rules.predicates import Predicate, compile_predicate


def _compile(data, env, fact=None):
    problems = []
    predicate = compile_predicate(data, "/when", fact=fact, env=env,
                                  report=lambda p, m, h=None, key=False: problems.append((p, m)))
    assert problems == []
    return predicate


def _one_at_a_time(predicates, facts):
    return [[bool(predicate(fact)) for fact in facts] for predicate in predicates]


# -- exactness: batch == each predicate on each fact ------------------------------------------

FIELDS = ["a", "b", "c", "n.x", "n.y"]
BIG = 2**53 + 1  # float64 cannot hold it: compared in Python
# Constants as validation accepts them (no NaN/inf, no exponent, integers up to 2**53); fact
# values may be anything JSON holds.
numbers = st.one_of(st.integers(-4, 4), st.floats(-4, 4).map(lambda x: round(x, 1)),
                    st.sampled_from([2**53, -2**53, 0.0001, 1234567.5]))
strings = st.sampled_from(["", "a", "ab", "b", "ba", "A", "aB", "1", "é"])
constants = st.one_of(st.booleans(), numbers, strings)
fact_scalars = st.one_of(constants, st.sampled_from([BIG, -BIG, 10**20, math.inf, -math.inf,
                                                     -0.0, 2.0**53]))
# The pattern dialect (rules.patterns): classes, groups, alternation, counted repeats.
PATTERNS = ["a.*", "[ab]+", "b?", "1|a", "A.*", "[a-c]+[0-9]?", "(ab|b)a", "a{2}", ".", "é|[.-]",
            "(A|b)a"]
MATCH_OPS = ["$mt", "$imt"]


def _leaf():
    field = st.sampled_from(FIELDS)
    return st.one_of(
        st.builds(lambda f, v: {f: v}, field, constants),
        st.builds(lambda f, op, v: {f: {op: v}}, field, st.sampled_from(["eq", "neq"]), constants),
        st.builds(lambda f, op, v: {f: {op: v}}, field,
                  st.sampled_from(["lt", "lte", "gt", "gte"]), numbers),
        st.builds(lambda f, vs: {f: {"in": vs}}, field,
                  st.lists(constants, min_size=1, max_size=4)),
        st.builds(lambda f, b: {f: {"exists": b}}, field, st.booleans()),
        st.builds(lambda op, f, p: {op: {f: p}}, st.sampled_from(MATCH_OPS), field,
                  st.sampled_from(PATTERNS)),
        st.just({"$fn": "test.a_is_odd"}),
        # node kinds the batch evaluator runs as closures: references, arithmetic, quantifiers
        st.builds(lambda f, g: {f: {"$m": g}}, field, field),
        st.builds(lambda op, f, g: {op: {f: {"$m": g}}}, st.sampled_from(["$neq", "$lt"]),
                  field, field),
        st.builds(lambda f, g, n: {"$gte": {f: {"$add": {"$l": {"$m": g}, "$r": n}}}}, field,
                  field, st.integers(-2, 2)),
        st.builds(lambda q, n: {q: {"l": {"$gt": {"$i": n}}}}, st.sampled_from(["$iany", "$iall"]),
                  st.integers(-2, 2)),
    )


conditions = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.builds(lambda items: {"$and": items}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda items: {"$or": items}, st.lists(inner, min_size=1, max_size=3)),
    ),
    max_leaves=6,
)
values = st.one_of(st.none(), fact_scalars, st.just(math.nan), st.just([1, "a"]),
                   st.just({"x": 1}))
facts = st.lists(
    st.fixed_dictionaries({}, optional={
        "a": values, "b": values, "c": values,
        "n": st.one_of(values, st.fixed_dictionaries({}, optional={"x": values, "y": values})),
        "l": st.one_of(values, st.lists(fact_scalars, max_size=3)),
    }),
    min_size=0, max_size=12,
)


def _a_is_odd(fact):
    value = fact.get("a")
    return type(value) is int and value % 2 == 1


@pytest.fixture(scope="module")
def odd_env():
    return Environment(predicate_functions={"test.a_is_odd": _a_is_odd})


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(conditions, min_size=1, max_size=8), facts)
def test_batch_equals_each_predicate_on_each_fact(odd_env, data, fact_list):
    predicates = [_compile(item, odd_env) for item in data]
    expected = _one_at_a_time(predicates, fact_list)
    evaluator = BatchEvaluator(predicates)

    columnar = evaluator.evaluate(FactTable(fact_list))
    generated = evaluator.evaluate_each(fact_list)

    assert columnar.matrix.tolist() == expected
    assert generated.matrix.tolist() == expected


def test_vectorized_comparisons_follow_durables_value_semantics():
    env = Environment()
    fact_list = [{"a": True}, {"a": 1}, {"a": 1.0}, {"a": "1"}, {"a": None}, {}, {"a": [1]},
                 {"a": {"x": 1}}, {"a": math.nan}, {"a": BIG}, {"a": "SH-1"}, {"a": "sh-1"}]
    conditions = [{"a": 1}, {"a": {"neq": 1}}, {"a": "1"}, {"a": {"neq": "1"}},
                  {"a": {"gte": 1}}, {"a": {"lt": 2}}, {"a": {"in": [True, "1"]}},
                  {"a": {"imatches": "sh-[0-9]"}}, {"a": {"exists": True}}]
    predicates = [_compile(item, env) for item in conditions]
    evaluator = BatchEvaluator(predicates)

    for result in (evaluator.evaluate(FactTable(fact_list)), evaluator.evaluate_each(fact_list)):
        assert [result.facts_matching(i).tolist() for i in range(len(conditions))] == [
            [0, 1, 2],  # true == 1 == 1.0
            [3, 8, 9, 10, 11],  # a string never equals a number; null, missing, lists: nothing
            [3],
            [0, 1, 2, 8, 9, 10, 11],
            [0, 1, 2, 9],  # beyond float64's exact integers: compared in Python
            [0, 1, 2],
            [0, 1, 2, 3],
            [10, 11],  # $imt folds ASCII case, vectorized like $mt
            [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11],
        ]
        assert result.matrix.tolist() == _one_at_a_time(predicates, fact_list)
    assert evaluator.plan.stats["closures"] == 0


# -- sharing ----------------------------------------------------------------------------------


def test_300_predicates_over_5_fields_evaluate_few_distinct_leaves(env):
    statuses, categories = ["draft", "active", "archived"], ["shoes", "bags", "hats", "belts"]
    predicates = [_compile({
        "status": statuses[i % 3],
        "category": {"in": [categories[i % 4], categories[(i + 1) % 4]]},
        "price": {"lt": 10 * (i % 10 + 1)},
        "stock": {"gt": i % 5},
        "brand": {"exists": i % 2 == 0},
    }, env, fact="product") for i in range(300)]

    stats = BatchEvaluator(predicates).plan.stats

    # 3 statuses + 4 category pairs + 10 price bounds + 5 stock bounds + 2 brand tests
    assert stats["leaf_references"] == 300 * 6
    assert stats["distinct_leaves"] == 3 + 4 + 10 + 5 + 2
    assert stats["fields"] == 5


def test_identical_predicates_share_one_step_wherever_they_were_written(env):
    first = _compile({"price": {"lt": 20}, "status": "active"}, env, fact="product")
    second = _compile({"$and": [{"$lt": {"price": 20}}, {"status": "active"}]}, env,
                      fact="product")

    plan = BatchEvaluator([first, second]).plan

    assert plan.roots[0] == plan.roots[1]
    assert plan.stats["distinct_steps"] == 3


def test_field_tests_are_shared_across_environments_and_functions_are_not():
    first = Environment(predicate_functions={"test.f": lambda fact: True})
    second = Environment(predicate_functions={"test.f": lambda fact: False})
    condition = {"$and": [{"stock": {"gt": 0}}, {"$fn": "test.f"}]}

    evaluator = BatchEvaluator([_compile(condition, first), _compile(condition, second)])

    assert evaluator.plan.stats["distinct_leaves"] == 1 + 2  # one stock test, two functions
    assert evaluator.evaluate(FactTable([{"stock": 1}])).matrix.tolist() == [[True], [False]]


def test_a_function_shared_by_every_predicate_runs_once_per_fact():
    calls = []

    def vip(fact):
        calls.append(fact["id"])
        return fact.get("vip") is True

    env = Environment(predicate_functions={"test.vip": vip})
    predicates = [_compile({"$or": [{"$fn": "test.vip"}, {"total": {"gt": i}}]}, env)
                  for i in range(50)]
    fact_list = [{"id": i, "vip": i % 3 == 0, "total": i} for i in range(100)]

    result = evaluate(predicates, FactTable(fact_list))

    assert sorted(calls) == [i for i in range(100) if i <= 49]  # total > 0 … > 49 decide the rest
    assert result.facts_matching(49).tolist() == [i for i in range(100) if i % 3 == 0 or i > 49]
    assert result.facts_matching(0).tolist() == [0] + list(range(1, 100))


def test_a_regex_runs_only_on_the_strings_with_its_literal_prefix(env):
    skus = ["SH-1", "SH-x", "SH", "SI-1", "sh-12", "SH-\U0010ffff", "RH-1", "SH-12"]
    fact_list = [{"sku": sku} for sku in skus] + [{"sku": 7}, {}]
    predicates = [_compile(item, env, fact="product") for item in (
        {"$mt": {"sku": "SH-[0-9]+"}}, {"$imt": {"sku": "sh-[0-9]+"}}, {"$mt": {"sku": "S.-1"}})]
    plan = BatchEvaluator(predicates).plan

    result = evaluate(predicates, FactTable(fact_list))

    assert [literal_prefix(step.arg) for step in plan.steps] == ["SH-", "", "S"]
    assert result.matrix.tolist() == _one_at_a_time(predicates, fact_list)
    assert result.facts_matching(0).tolist() == [0, 7]
    assert result.facts_matching(1).tolist() == [0, 4, 7]


# -- fallback to closures -----------------------------------------------------------------------


def test_a_function_is_only_called_where_the_and_still_depends_on_it():
    def strict(fact):
        if fact["kind"] != "order":
            raise AssertionError("called for a fact the closures would have skipped")
        return fact["total"] > 10

    env = Environment(predicate_functions={"test.strict": strict})
    predicate = _compile({"$and": [{"kind": "order"}, {"$fn": "test.strict"}]}, env)
    fact_list = [{"kind": "order", "total": 5}, {"kind": "cart"}, {"kind": "order", "total": 50}]

    result = evaluate([predicate], FactTable(fact_list))

    assert result.facts_matching(0).tolist() == [2]
    assert evaluate([predicate], fact_list).facts_matching(0).tolist() == [2]


@dataclass(frozen=True)
class FoldedMatches(Matches):
    """Stands for a node kind the batch evaluator does not know (a later $imt, say)."""


def test_a_node_kind_it_does_not_vectorize_runs_as_its_closure(env):
    node = FoldedMatches(("sku",), "SH-[0-9]+", "/when/sku", "/when/sku")
    unknown = Predicate(node, "product", {}, build_test(node, {}))
    known = _compile({"sku": {"matches": "SH-[0-9]+"}}, env, fact="product")
    fact_list = [{"sku": "SH-1"}, {"sku": "SH-x"}, {}, {"sku": 7}] * 20

    evaluator = BatchEvaluator([unknown, known])
    result = evaluator.evaluate(FactTable(fact_list))

    assert evaluator.plan.stats["closures"] == 1
    assert result.matrix.tolist() == _one_at_a_time([unknown, known], fact_list)
    assert result.facts_matching(0).tolist() == list(range(0, 80, 4))


# -- the API ------------------------------------------------------------------------------------


def test_which_predicates_match_a_fact_and_which_facts_match_a_predicate(env):
    predicates = [_compile(item, env, fact="product") for item in (
        {"price": {"lt": 20}}, {"category": {"in": ["shoes", "bags"]}}, {"$nex": {"brand": 1}})]
    fact_list = [{"price": 10, "category": "shoes"}, {"price": 30, "brand": "x"},
                 {"price": 19.99, "category": "bags", "brand": "y"}]

    result = evaluate(predicates, FactTable(fact_list))

    assert result.predicates_matching(0).tolist() == [0, 1, 2]
    assert result.predicates_matching(1).tolist() == []
    assert result.facts_matching(1).tolist() == [0, 2]
    assert result.pairs() == [(0, 0), (0, 2), (1, 0), (1, 2), (2, 0)]
    with pytest.raises(ValueError):
        result.masks[0][0] = False  # masks are shared between predicates: read-only


def test_a_table_reads_each_field_once_and_more_on_demand(env):
    predicate = _compile({"price": {"lt": 20}, "attributes.color": "red"}, env, fact="product")
    evaluator = BatchEvaluator([predicate])
    table = evaluator.table([{"price": 1, "attributes": {"color": "red"}}, {"price": 1}])

    assert table.paths == {("price",), ("attributes", "color")}
    assert evaluator.evaluate(table).facts_matching(0).tolist() == [0]
    assert table.column(("stock",)).present.tolist() == [False, False]
    assert table.paths == {("price",), ("attributes", "color"), ("stock",)}


# -- the generated function for small batches -----------------------------------------------------


def test_small_batches_use_the_generated_function_and_large_ones_the_columns(env):
    predicate = _compile({"stock": {"gt": 0}}, env, fact="product")
    small = BatchEvaluator([predicate])
    large = BatchEvaluator([predicate])

    small_result = small.evaluate([{"stock": 1}, {"stock": 0}])
    large_result = large.evaluate([{"stock": 1}, {"stock": 0}] * SMALL_BATCH)

    assert "per_fact" in small.__dict__ and "per_fact" not in large.__dict__
    assert small_result.facts_matching(0).tolist() == [0]
    assert large_result.facts_matching(0).tolist() == list(range(0, 2 * SMALL_BATCH, 2))


def test_generated_source_never_contains_author_text():
    env = Environment()
    hostile = 'x") or __import__("os") or exit("no") or ("'  # no dot: one path segment
    predicate = _compile({"$and": [{hostile: hostile}, {"$mt": {"sku": "exit.*"}},
                                   {f"n.{hostile}": {"in": [hostile, 3]}}]}, env)

    text, names = generate(BatchEvaluator([predicate]).plan)
    function = BatchEvaluator([predicate]).per_fact

    assert "__import__" not in text and "exit" not in text
    assert hostile in names.values()
    assert function({hostile: hostile, "sku": "exit(1)", "n": {hostile: 3}}) == (True,)
    assert function({hostile: hostile, "sku": "x", "n": {hostile: 3}}) == (False,)


def test_no_predicates_and_no_facts(env):
    predicate = _compile({"stock": {"gt": 0}}, env, fact="product")

    assert evaluate([], FactTable([{"stock": 1}])).matrix.shape == (0, 1)
    assert evaluate([predicate], FactTable([])).matrix.shape == (1, 0)
    assert evaluate([predicate], []).matrix.shape == (1, 0)
