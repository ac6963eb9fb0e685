from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.build.markup import first_paragraph, plain_text, to_html, word_count


def test_tables_footnotes_code_and_attribute_lists() -> None:
    html = to_html(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "Claim.[^1]\n\n[^1]: Source.\n\n"
        "```python\nx = 1\n```\n\n"
        "Note.\n{: .note }\n"
    )
    assert "<table>" in html and "<td>1</td>" in html
    assert 'class="footnote-ref"' in html and 'id="fn:1"' in html
    assert '<code class="language-python">x = 1' in html
    assert '<p class="note">Note.</p>' in html


def test_headings_get_anchors_and_cyrillic_ones_stay_readable() -> None:
    html = to_html("## Why it matters\n\n## Что дальше\n")
    assert '<h2 id="why-it-matters">' in html
    assert '<h2 id="что-дальше">' in html


@pytest.mark.parametrize(
    ("markdown", "html"),
    [
        ('"Quoted" -- it\'s here...', "<p>“Quoted” – it’s here…</p>"),
        ("em---dash", "<p>em—dash</p>"),
        ('He said "*yes*" and <em>left</em>".', "<p>He said “<em>yes</em>” and <em>left</em>”.</p>"),
        ('`code "x"` and "y"', '<p><code>code "x"</code> and “y”</p>'),
        ("(\"in parens\") and 'single'", "<p>(“in parens”) and ‘single’</p>"),
        ('a "b"\n\n"c" d', "<p>a “b”</p>\n<p>“c” d</p>"),
        (
            '[a "link"](https://x.org/ "It\'s a title")',
            '<p><a href="https://x.org/" title="It\'s a title">a “link”</a></p>',
        ),
        ('```\n"code" -- block...\n```', "<pre><code>&quot;code&quot; -- block...\n</code></pre>"),
    ],
)
def test_smart_typography(markdown: str, html: str) -> None:
    assert to_html(markdown) == html


def test_no_state_leaks_between_calls() -> None:
    to_html("A[^1]\n\n[^1]: one")
    assert "footnote" not in to_html("Plain")


def test_first_paragraph_is_plain_text_without_footnote_marks() -> None:
    html = to_html("## Head\n\nThe *first* paragraph[^1], with [a link](x).\n\nSecond.\n\n[^1]: n")
    assert first_paragraph(html) == "The first paragraph, with a link."
    assert first_paragraph("<ul><li>x</li></ul>") == ""


def test_plain_text_and_word_count() -> None:
    assert plain_text("<p>a &amp; <b>b</b></p>") == "a & b"
    assert word_count("<p>Протесты в Минске, and <em>more</em> words.</p>") == 6


def test_table_alignment_uses_classes_not_inline_styles() -> None:
    html = to_html("| a | b |\n|:-:|--:|\n| 1 | 2 |\n")
    assert "style=" not in html
    assert '<th class="align-center">a</th>' in html and '<td class="align-right">2</td>' in html


# The quick inline processor, and the block processors and preprocessors tried only where they can
# match, must give exactly what Python-Markdown's own give.

TRICKY = [
    "*em* and **strong** and ***both***, _em_ and __strong__, snake_case_name, 2 * 3 * 4",
    "`code with *stars*` and ``double `tick` code`` and \\`escaped\\` and \\\\` odd",
    '[link](https://example.org/a_b) and ![image](x.png "t") and [ref][r] and [r]\n\n[r]: /x',
    "<https://example.org> and <mail@example.org> and <b>html</b> and &amp; &#8212; &copy;",
    "line  \nbreak, footnote[^1] and [^missing]\n\n[^1]: The *note*.",
    "plain words only, with no markup at all",
    "Протесты в *Минске* и [ссылка](https://example.org/ru) — «кавычки»",
    "# Heading {: #custom }\n\nText\n{: .lead }\n\n> quote\n\n---\n\nSetext\n===\n\n| a | b |\n|---|---|\n| 1 | 2 |",
    "```\nfenced *code*\n```\n\n~~~\ntilde\n~~~\n\n<div>\nraw *html*\n</div>",
    "character references without a tag: &#1 and &#x41; and 1 & 2",
    "tabs\tand\r\nwindows lines  \n   \nand a line of spaces above",
]


def plain_converter() -> Any:
    import markdown

    from generator.build.markup import EXTENSIONS, _HeadingIdsExtension

    return markdown.Markdown(extensions=[*EXTENSIONS, _HeadingIdsExtension()], output_format="html")


def quick_converter() -> Any:
    from generator.build.markup import _converter_for

    _converter_for.cache_clear()
    return _converter_for((), "{}")


@pytest.mark.parametrize("text", TRICKY)
def test_quick_inline_gives_the_same_html(text: str) -> None:
    quick, plain = quick_converter(), plain_converter()
    assert type(quick.treeprocessors["inline"]).__name__ == "_QuickInline"
    assert quick.convert(text) == plain.convert(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab _*`[]()!<>&;#\\^:\n-x@./1=|{}~\r\t", max_size=80))
def test_quick_inline_matches_python_markdown_on_any_text(text: str) -> None:
    quick, plain = quick_converter(), plain_converter()
    assert quick.convert(text) == plain.convert(text)


def test_block_processors_are_tried_only_on_blocks_they_could_take(monkeypatch: pytest.MonkeyPatch) -> None:
    from markdown import blockprocessors

    tried: list[str] = []
    for processor in (blockprocessors.BlockQuoteProcessor, blockprocessors.HashHeaderProcessor):
        original = processor.test

        def counting(self: Any, parent: Any, block: str, original: Any = original) -> bool:
            tried.append(type(self).__name__)
            return bool(original(self, parent, block))

        monkeypatch.setattr(processor, "test", counting)
    text = "A paragraph of plain words.\n\nAnd a second one, with no quote or heading."
    quick_html = quick_converter().convert(text)
    assert tried == []
    assert plain_converter().convert(text) == quick_html and len(tried) == 4  # two tests, two blocks
    tried.clear()
    quick_converter().convert("> quoted\n\n# heading")
    assert "BlockQuoteProcessor" in tried and "HashHeaderProcessor" in tried


def test_quick_inline_skips_patterns_that_cannot_match(monkeypatch: pytest.MonkeyPatch) -> None:
    from markdown.treeprocessors import InlineProcessor

    tried: list[str] = []
    original = InlineProcessor._InlineProcessor__applyPattern  # type: ignore[attr-defined]

    def counting(self: Any, pattern: Any, *args: Any) -> Any:
        tried.append(type(pattern).__name__)
        return original(self, pattern, *args)

    monkeypatch.setattr(InlineProcessor, "_InlineProcessor__applyPattern", counting)
    quick_converter().convert("plain words only")
    assert tried == []  # not one of the patterns needs to look at text without special characters
    plain_converter().convert("plain words only")
    assert len(tried) > 10
