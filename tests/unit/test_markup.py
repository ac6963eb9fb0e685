from __future__ import annotations

import pytest

from generator.markup import first_paragraph, plain_text, to_html, word_count


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
