from __future__ import annotations

from pathlib import Path

import pytest

from generator.base.errors import BuildFailed
from generator.build.config import load_config, parse_config

PATH = Path("/site/config.yaml")


def errors_of(text: str, **overrides: object) -> list[str]:
    with pytest.raises(BuildFailed) as info:
        parse_config(text, PATH, **overrides)
    return [str(e) for e in info.value.errors]


def test_defaults_for_an_empty_file() -> None:
    config = parse_config("", PATH)
    assert config.root == Path("/site")
    assert config.content_dir == Path("/site/content")
    assert config.output_dir == Path("/site/site")
    assert config.theme == "default"
    assert config.collections == ()


def test_values_are_read_and_base_url_gets_a_trailing_slash() -> None:
    config = parse_config(
        "title: My digest\nbase_url: https://user.github.io/digest\nper_page: 5\ntimezone: Europe/Minsk\n",
        PATH,
    )
    assert config.title == "My digest"
    assert config.base_url == "https://user.github.io/digest/"
    assert config.base_path == "/digest/"
    assert config.per_page == 5
    assert config.timezone == "Europe/Minsk"


def test_unknown_key_names_its_line_and_suggests_the_right_one() -> None:
    errors = errors_of("title: x\nbase_url: https://e.org/\ntittle: y\n")
    assert errors == ["/site/config.yaml:3: error: unknown key 'tittle'\n  hint: did you mean 'title'?"]


def test_every_problem_is_reported_at_once() -> None:
    errors = errors_of(
        "per_page: many\ntimezone: Mars/Olympus\nbase_url: example.org\nlanguage: 'english!'\n"
    )
    assert len(errors) == 4
    assert any(":1:" in e and "per_page" in e for e in errors)
    assert any(":2:" in e and "time zone" in e for e in errors)
    assert any(":3:" in e and "base_url" in e for e in errors)
    assert any(":4:" in e and "language" in e for e in errors)


def test_malformed_yaml_gives_line_and_column() -> None:
    errors = errors_of("title: ok\ncollections: [a, b\nper_page: 3\n")
    assert len(errors) == 1
    assert errors[0].startswith("/site/config.yaml:3:")
    assert "invalid YAML" in errors[0]


def test_collections_keep_config_order_unless_order_is_given() -> None:
    config = parse_config(
        "collections:\n"
        "  - {key: world, title: World}\n"
        "  - {key: belarus, title: Solidarity with Belarus, description: Protests}\n"
        "  - {key: science, title: Science, order: -1}\n",
        PATH,
    )
    assert [c.key for c in config.collections] == ["science", "world", "belarus"]
    assert config.collections[2].description == "Protests"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("{key: World, title: W}", "lowercase letters"),
        ("{key: tags, title: Tags}", "reserved"),
        ("{key: ../etc, title: Escape}", "lowercase letters"),
        ("{key: w, title: W, colour: red}", "unknown collection key 'colour'"),
    ],
)
def test_bad_collection_entries(item: str, message: str) -> None:
    errors = errors_of(f"collections:\n  - {item}\n")
    assert any(message in e and "config.yaml:2" in e for e in errors), errors


def test_duplicate_collection_key() -> None:
    errors = errors_of("collections:\n  - {key: w, title: W}\n  - {key: w, title: X}\n")
    assert errors == ["/site/config.yaml:3: error: collection key 'w' is listed twice"]


def test_overrides_replace_values_and_none_is_ignored() -> None:
    config = parse_config("base_url: https://a.org/\n", PATH, base_url="https://b.org/x", title=None)
    assert config.base_url == "https://b.org/x/"
    assert config.title == "News digest"


def test_output_override_may_be_absolute(tmp_path: Path) -> None:
    config = parse_config("", PATH, output_dir=tmp_path / "out")
    assert config.output_dir == tmp_path / "out"


def test_missing_config_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed) as info:
        load_config(tmp_path)
    error = info.value.errors[0]
    assert "no config.yaml" in error.message
    assert error.hint and "--source" in error.hint


def test_a_list_is_not_a_config() -> None:
    assert "must be a mapping" in errors_of("- a\n- b\n")[0]


def test_yaml_tags_that_build_objects_are_refused() -> None:
    errors = errors_of("title: !!python/object/apply:os.system ['echo hi']\n")
    assert "invalid YAML" in errors[0]
