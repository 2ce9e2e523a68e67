import pytest

from counter.names import SEED_COUNTER, Counter, InvalidName, counter_from_parts, counter_from_path


@pytest.mark.parametrize("name", ["abc", "visitor_count", "A-Z.0_9", "x" * 64, "a..b", "---"])
def test_valid_names_are_accepted(name):
    assert counter_from_parts(namespace=name, key=name) == Counter(name, name)


@pytest.mark.parametrize(
    "name",
    ["", "a", "ab", "x" * 65, "{tag}", "a:b", "a b", "a/b", "café", "../etc", "a\nb", "...", ".."],
)
def test_invalid_names_are_refused_with_a_message(name):
    with pytest.raises(InvalidName, match="use 3 to 64 characters"):
        counter_from_parts(namespace="default", key=name)
    with pytest.raises(InvalidName, match="invalid namespace"):
        counter_from_parts(namespace=name, key="key")


@pytest.mark.parametrize("name", ["a", "ab", "-"])
def test_names_of_earlier_versions_are_reachable_by_the_commands(name):
    with pytest.raises(InvalidName):
        counter_from_parts(namespace=name, key=name)
    assert counter_from_parts(namespace=name, key=name, legacy=True) == Counter(name, name)
    with pytest.raises(InvalidName, match="use 1 to 64"):
        counter_from_parts(namespace="..", key=name, legacy=True)


def test_path_without_namespace_is_in_default():
    assert counter_from_path("visitor_count") == SEED_COUNTER
    assert counter_from_path("site/home") == Counter("site", "home")
    assert str(counter_from_path("site/home")) == "site/home"


def test_path_with_too_many_parts_is_refused():
    with pytest.raises(InvalidName):
        counter_from_path("abc/def/ghi")
