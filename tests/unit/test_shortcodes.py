"""Liquid tags and Hugo's built-in shortcodes become the Markdown they stand for; code is left alone."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from generator.build.content import parse_article
from generator.build.contentfiles import RawArticle
from generator.build.shortcodes import translate


@pytest.mark.parametrize(
    ("text", "markdown"),
    [
        ("{% highlight js %}\nvar a = 1;\n{% endhighlight %}\n", "```js\nvar a = 1;\n```\n"),
        ("{% highlight ruby linenos %}\nputs 1\n{% endhighlight %}\n", "```ruby\nputs 1\n```\n"),
        ("{{< highlight go >}}\nfmt.Println()\n{{< /highlight >}}\n", "```go\nfmt.Println()\n```\n"),
        (
            "{% highlight md %}\n```\nx\n```\n{% endhighlight %}\n",
            "````md\n```\nx\n```\n````\n",
        ),  # a longer fence
        ("```\n{% raw %}{{ x }}{% endraw %}\n```\n", "```\n{{ x }}\n```\n"),  # raw: in code too
        ("A{% comment %}\nhidden\n{% endcomment %}B\n", "A\n\nB\n"),
        ("On {{ page.title }}.\n", "On The title.\n"),
        (
            "`{{ page.title }}` and\n```\n{{ page.title }} {{< youtube x >}}\n```\n",
            "`{{ page.title }}` and\n```\n{{ page.title }} {{< youtube x >}}\n```\n",
        ),  # code is code
        (
            '{{< figure src="/img/a.jpg" caption="Minsk & more" >}}\n',
            '<figure><img src="/img/a.jpg" alt="Minsk &amp; more"><figcaption>Minsk &amp; more</figcaption></figure>\n',
        ),
        (
            "{{< youtube w7Ft2ymGmfc >}}\n",
            "[Video on YouTube](https://www.youtube.com/watch?v=w7Ft2ymGmfc)\n",
        ),
        ('{{< vimeo id="146022717" >}}\n', "[Video on Vimeo](https://vimeo.com/146022717)\n"),
        ('{{< youtube "x onerror=" >}}\n', '{{< youtube "x onerror=" >}}\n'),  # no video id: left as written
        ("{{< gist spf13 7896402 >}}\n", "[Gist](https://gist.github.com/spf13/7896402)\n"),
        (
            '{{< x user="SanDiegoZoo" id="1453110110599868418" >}}\n',
            "[Post on X](https://x.com/SanDiegoZoo/status/1453110110599868418)\n",
        ),
        ("{{< tweet user=a id=1 >}}\n", "[Post on X](https://x.com/a/status/1)\n"),
        (
            "{{< instagram CxOWiQNP2MO >}}\n",
            "[Post on Instagram](https://www.instagram.com/p/CxOWiQNP2MO/)\n",
        ),
        ('{{< param "city" >}} and {{< param missing >}}\n', "Minsk and {{< param missing >}}\n"),
        (
            "{{< gallery dir=x >}}\n{% include note.html %}\n",
            "{{< gallery dir=x >}}\n{% include note.html %}\n",
        ),
    ],
)
def test_what_the_tags_stand_for(text: str, markdown: str) -> None:
    assert translate(text, "The title", {"city": "Minsk"}) == markdown
    assert translate(text, "The title").count("\n") == text.count("\n")  # errors keep their lines


def article(body: str) -> tuple[str, tuple[str, ...]]:
    text = f"---\ntitle: Tags\ndate: 2020-09-03\n---\n{body}"
    found = parse_article(RawArticle("w/a.md", Path("/c/w/a.md"), text), ZoneInfo("UTC"))
    return found.body_html, tuple(str(n) for n in found.notes)


def test_a_highlight_block_is_a_code_block_and_nothing_is_named() -> None:
    html, notes = article('Intro.\n\n{% highlight xml %}\n<a href="x">{{ y }}</a>\n{% endhighlight %}\n')
    assert (
        '<pre><code class="language-xml">&lt;a href=&quot;x&quot;&gt;{{ y }}&lt;/a&gt;\n</code></pre>' in html
    )
    assert notes == ()


def test_template_code_in_code_is_not_named_and_what_is_left_is_named_at_its_line() -> None:
    assert article("Write `{{ page.url }}` in a template.\n")[1] == ()
    _, notes = article("One.\n\n{% include note.html %}\n")
    assert len(notes) == 1 and "a.md:7: warning: a Liquid tag" in notes[0]


def test_site_values_and_kramdown_heading_attributes() -> None:
    site = {"repository": "https://github.com/o/r", "twitter": {"username": "news"}, "list": [1]}
    text = "At {{ site.repository }} and @{{ site.twitter.username }}, {{ site.list }} {{ site.nothing }}\n"
    assert translate(text, "T", None, False, site) == (
        "At https://github.com/o/r and @news, {{ site.list }} {{ site.nothing }}\n"
    )
    assert translate("## 1.0\n{: #v1 .big}\nText\n", "T") == "## 1.0 {: #v1 .big}\n\nText\n"  # lines kept
    assert translate("`{{ site.repository }}`\n", "T", None, False, site) == "`{{ site.repository }}`\n"
