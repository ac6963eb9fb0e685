"""A digest in several languages (issue 28, first steps): `languages:`, translations linked by file
name, by language folder and by `translation_key`, URLs under /<code>/, reciprocal `hreflang`
alternates and "Also in" on every translated article; a site without `languages:` is unchanged."""

from __future__ import annotations

import re

from tests.conftest import MakeSite, article_text, run_cli

CONFIG = """\
title: Салідарнасць
base_url: https://digest.example/
search: false
languages:
  - {code: en, name: English}
  - {code: be, name: Беларуская, default: true}
  - {code: ru, name: Русский}
"""


def alternates(page: str) -> dict[str, str]:
    return dict(re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', page))


def test_translations_are_linked_three_ways_and_every_alternate_is_reciprocal(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/news/march.md": article_text("Марш", "2020-09-03"),
            "content/news/march.ru.md": article_text("Марш по-русски", "2020-09-03"),  # by file name
            "content/en/news/march.md": article_text("The march", "2020-09-03"),  # by language folder
            "content/news/vote.md": article_text("Выбары", "2020-09-04", translation_key="vote-2020"),
            "content/news/golos.ru.md": article_text("Выборы", "2020-09-04", translationKey="vote-2020"),
            "content/news/alone.md": article_text("Толькі па-беларуску", "2020-09-05"),  # no translation
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 0, err
    site = root / "site"
    pages = {
        "be": site / "news/2020/09/03/march/index.html",
        "ru": site / "ru/news/2020/09/03/march/index.html",
        "en": site / "en/news/2020/09/03/march/index.html",
    }
    found = {code: alternates(path.read_text(encoding="utf-8")) for code, path in pages.items()}
    expected = {
        code: f"https://digest.example/{path.relative_to(site).parent.as_posix()}/"
        for code, path in pages.items()
    }
    for code in pages:
        assert {k: v for k, v in found[code].items() if k != "x-default"} == expected, code  # reciprocal
        assert found[code]["x-default"] == expected["be"]
    be = pages["be"].read_text(encoding="utf-8")
    assert re.search(
        r'<p class="also-in meta" data-pagefind-ignore>Іншыя мовы: <a href="[^"]+" hreflang="en" lang="en">English</a>, <a href="[^"]+" hreflang="ru" lang="ru">Русский</a></p>',
        be,
    )
    assert '<html lang="ru">' in pages["ru"].read_text(encoding="utf-8")
    golos = (site / "ru/news/2020/09/04/golos/index.html").read_text(encoding="utf-8")
    assert alternates(golos)["be"] == "https://digest.example/news/2020/09/04/vote/"
    alone = (site / "news/2020/09/05/alone/index.html").read_text(encoding="utf-8")
    assert "hreflang" not in alone and "also-in" not in alone


def test_two_translations_in_one_language_and_a_key_of_nothing_are_located_errors(
    make_site: MakeSite,
) -> None:
    root = make_site(
        {
            "content/news/march.md": article_text("Марш", "2020-09-03"),
            "content/news/march.ru.md": article_text("Марш", "2020-09-03"),
            "content/ru/news/march.md": article_text("Марш ещё раз", "2020-09-03"),
            "content/news/lost.ru.md": article_text("Потерянный", "2020-09-03", translation_key="nowhere"),
        },
        config=CONFIG,
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "Traceback" not in err
    assert "a second 'ru' translation of 'news/march.md'" in err
    assert "'translation_key: nowhere' names no article in the default language (be)" in err


def test_a_language_setting_is_checked_at_its_line(make_site: MakeSite) -> None:
    root = make_site(
        {"content/news/a.md": article_text("A")},
        config="title: T\nbase_url: https://e.org/\nlanguages:\n  - {code: be, name: Беларуская, default: true}\n  - {code: 'x y', name: X}\n",
    )
    code, _, err = run_cli("build", "-s", str(root))
    assert code == 1 and "config.yaml:5" in err and "language 'x y'" in err
