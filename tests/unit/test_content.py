from __future__ import annotations

import dataclasses
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from generator.base.errors import BuildFailed
from generator.base.model import Config, Showing
from generator.build import frontmatter
from generator.build.content import finish, parse_article, published, read_content
from generator.build.contentfiles import RawArticle, ReadRules, find_articles, load_files
from generator.build.fields import parse_date
from tests.conftest import article_text, make_article, make_config

TZ = ZoneInfo("Europe/Vilnius")


def parse(text: str, name: str = "world/story.md"):  # type: ignore[no-untyped-def]
    return parse_article(RawArticle(name, Path("/site/content") / name, text), TZ)


def errors_of(text: str, name: str = "world/story.md") -> list[str]:
    with pytest.raises(BuildFailed) as info:
        parse(text, name)
    return [str(e) for e in info.value.errors]


def test_a_full_article_is_parsed() -> None:
    article = parse(
        "---\n"
        "title: Night trains\n"
        "date: 2020-09-02 08:00\n"
        "collection: World\n"
        "tags: transport, climate\n"
        "authors: [Ann, Bob]\n"
        "updated: 2020-09-04\n"
        "image: /img/train.jpg\n"
        "source: {name: Agency, url: 'https://agency.example/'}\n"
        "lang: en\n"
        "layout: post\n"
        "---\n"
        "First *paragraph* here.\n\nSecond.\n"
    )
    assert article.title == "Night trains"
    assert article.slug == "story"  # the file's name: a corrected headline keeps the URL
    assert article.date == datetime(2020, 9, 2, 8, tzinfo=TZ)
    assert article.updated == datetime(2020, 9, 4, tzinfo=TZ)
    assert article.collections == ("World",)
    assert article.tags == ("transport", "climate")
    assert article.authors == ("Ann", "Bob")
    assert [(s.name, s.url) for s in article.sources] == [("Agency", "https://agency.example/")]
    assert article.summary == "First paragraph here."
    assert article.body_html.startswith("<p>First <em>paragraph</em> here.</p>")
    assert article.extra == {"layout": "post"}
    assert article.word_count == 4


def test_the_slug_comes_from_the_file_name_then_the_title() -> None:
    assert parse(article_text("Anything"), "world/2020-09-03-weekly-briefing.md").slug == "weekly-briefing"
    assert parse(article_text("Anything"), "world/weekly-briefing/index.md").slug == "weekly-briefing"
    assert parse(article_text("Anything"), "world/Протесты.md").slug == "protesty"
    assert parse(article_text("Протесты в Беларуси продолжаются"), "world/!!!.md").slug == (
        "protesty-v-belarusi-prodolzhaiutsia"
    )
    assert parse(article_text("Anything", slug="'Given Here'"), "world/x.md").slug == "given-here"


def test_url_and_permalink_in_front_matter_are_checked_patterns() -> None:
    assert parse(article_text("A", url="/about")).url == "/about/"
    assert parse(article_text("A", permalink="/:year/:slug/")).url == "/:year/:slug/"
    errors = errors_of(article_text("A", permalink="/:yeer/:slug/"))
    assert any("story.md:4: error: unknown token ':yeer'" in e for e in errors), errors
    assert any("'..'" in e for e in errors_of(article_text("A", url="/../../etc/")))


def test_explicit_slug_is_sanitised() -> None:
    assert parse(article_text(slug="'../../Etc Passwd'")).slug == "etc-passwd"


def test_jekyll_post_takes_date_from_file_name_and_description_as_summary() -> None:
    article = parse(
        "---\nlayout: post\ntitle: Old post\ndescription: From Jekyll\n---\nBody.\n",
        "_posts/2019-05-06-old-post.md",
    )
    assert article.date == datetime(2019, 5, 6, tzinfo=TZ)
    assert article.summary == "From Jekyll"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-09-03", datetime(2020, 9, 3, tzinfo=TZ)),
        ("2020-09-03T10:30:00", datetime(2020, 9, 3, 10, 30, tzinfo=TZ)),
        ("2020-09-03T10:30:00Z", datetime(2020, 9, 3, 10, 30, tzinfo=timezone.utc)),
        ("2020-09-03T10:30:00+03:00", datetime(2020, 9, 3, 7, 30, tzinfo=timezone.utc)),
    ],
)
def test_dates(value: str, expected: datetime) -> None:
    assert parse_date(value, TZ) == expected
    assert parse(article_text(date=value)).date == expected


def test_missing_title_and_bad_date_are_both_reported_with_lines() -> None:
    errors = errors_of("---\nauthor: Ann\ndate: 3rd of September\n---\nBody\n")
    assert errors[0].startswith("/site/content/world/story.md:2: error: missing 'title'")
    assert errors[1].startswith("/site/content/world/story.md:3: error: 'date' is not an ISO 8601 date")


def test_missing_date() -> None:
    assert "missing 'date'" in errors_of("---\ntitle: T\n---\nBody\n")[0]


def test_yaml_error_line_is_the_line_in_the_markdown_file() -> None:
    errors = errors_of("---\ntitle: ok\ndate: 2020-01-01\nsummary: [broken\n---\nBody\n")
    assert len(errors) == 1
    assert errors[0].startswith("/site/content/world/story.md:5:")
    assert "invalid YAML" in errors[0]


def test_unquoted_colon_is_reported_at_its_line_and_column() -> None:
    errors = errors_of("---\ntitle: Breaking: news: today\ndate: 2020-01-01\n---\n")
    assert errors[0].startswith("/site/content/world/story.md:2:")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Just text\n", "no front matter"),
        ("---\ntitle: T\n", "front matter is not closed"),
        ("+++\ntitle = 'T\n+++\n", "invalid TOML in front matter"),
        ("---\n- a\n- b\n---\n", "must be 'key: value' lines"),
        ("---\ntitle: T\ndate: 2020-01-01\ndraft: maybe\n---\n", "'draft' must be true or false"),
        ("---\ntitle: T\ndate: 2020-01-01\ntags: {a: 1}\n---\n", "'tags' must be a name or a list"),
        ("---\ntitle: [a, b]\ndate: 2020-01-01\n---\n", "'title' must be text"),
        ("---\ntitle: T\ndate: 2020-01-01\nslug: '!!!'\n---\n", "cannot make a URL slug from '!!!'"),
        ("---\ntitle: T\ndate: 2020-01-01\nlang: ../../x\n---\n", "'lang' must be a language code"),
        ("---\ntitle: T\ndate: 2020-01-01\nimage: javascript:alert(3)\n---\n",
         "story.md:4: error: 'image' must be a path in the site or an http(s) address, not 'javascript:alert(3)'"),
        ("---\ntitle: T\ndate: 2020-01-01\nimages: [file:///etc/passwd]\n---\n",
         "'images' must be a path in the site or an http(s) address"),
        ("---\ntitle: T\ndate: 2020-01-01\ncover: {image: 'data:image/png;base64,AA'}\n---\n",
         "'cover' must be a path in the site or an http(s) address"),
    ],
)  # fmt: skip
def test_bad_front_matter(text: str, message: str) -> None:
    errors = errors_of(text)
    assert any(message in e for e in errors), errors


def test_front_matter_split_reports_body_line() -> None:
    found = frontmatter.split("---\ntitle: T\n---\nBody\n", Path("x.md"))
    assert (found.front, found.body, found.body_line, found.meta) == (
        "title: T\n",
        "Body\n",
        4,
        {"title": "T"},
    )


def test_crlf_files_are_read() -> None:
    article = parse("---\r\ntitle: T\r\ndate: 2020-01-01\r\n---\r\nBody text\r\n")
    assert article.title == "T"
    assert "Body text" in article.body_html


def test_template_syntax_in_articles_is_left_as_text() -> None:
    article = parse(article_text(body="Use {{ site.title }} and {% raw %}.\n"))
    assert "{{ site.title }}" in article.body_html


def test_non_utf8_and_unreadable_files_are_errors(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text(article_text(), encoding="utf-8")
    latin = tmp_path / "latin.md"
    latin.write_bytes(b"---\ntitle: Caf\xe9\n---\n")
    missing = tmp_path / "gone.md"
    raws, errors = load_files(rules(tmp_path), [good, latin, missing])
    assert [r.id for r in raws] == ["good.md"]
    assert "latin.md:2: error: file is not valid UTF-8" in str(errors[0])
    assert "gone.md: error: cannot read: No such file" in str(errors[1])


def rules(folder: Path, **kw: Any) -> ReadRules:
    return ReadRules(folder, folder.resolve(), **{"max_bytes": 1024 * 1024, **kw})


def test_only_regular_files_within_the_site_and_within_the_size_limit_are_read(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    outside = tmp_path / "outside.md"
    outside.write_text(article_text(), encoding="utf-8")
    (site / "fifo.md").parent.mkdir(exist_ok=True)
    os.mkfifo(site / "fifo.md")
    (site / "zero.md").symlink_to("/dev/zero")
    (site / "out.md").symlink_to(outside)
    (site / "big.md").write_text(article_text(body="x" * 3000), encoding="utf-8")
    (site / "ok.md").write_text(article_text(), encoding="utf-8")
    (site / "in.md").symlink_to(site / "ok.md")
    names = ["fifo.md", "zero.md", "out.md", "big.md", "ok.md", "in.md"]
    raws, errors = load_files(rules(site, max_bytes=2048), [site / n for n in names])
    assert [r.id for r in raws] == ["ok.md", "in.md"]
    said = {Path(e.location.path).name: e.message for e in errors if e.location}
    assert said["fifo.md"].startswith("not a regular file")
    assert "outside the site" in said["zero.md"] and "outside the site" in said["out.md"]
    assert said["big.md"] == "the file is larger than 2 KB"
    raws, errors = load_files(rules(site, outside_links=True), [site / "zero.md", site / "out.md"])
    assert [r.id for r in raws] == ["out.md"] and errors[0].message.startswith("not a regular file")


def test_folders_that_cannot_be_read_or_lead_outside_are_listed_to_be_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = tmp_path / "site" / "content"
    (content / "locked").mkdir(parents=True)
    (content / "a.md").write_text(article_text(), encoding="utf-8")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.md").write_text(article_text(), encoding="utf-8")
    (content / "linked").symlink_to(tmp_path / "elsewhere")
    (content / "loop").symlink_to(content)
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    config = Config(root=tmp_path / "site", content_dir=content)
    found = find_articles(config)
    assert found == sorted([str(content / "a.md"), str(content / "linked"), str(content / "locked")])
    _, errors = load_files(ReadRules.of(config), [Path(p) for p in found])
    assert errors[0].message == f"a symbolic link to {tmp_path / 'elsewhere'}, outside the site"
    assert errors[1].message.startswith("cannot read")  # a folder: "Permission denied" for a user
    allowed = find_articles(dataclasses.replace(config, allow_outside_symlinks=True))
    assert str(content / "linked" / "b.md") in allowed


def test_read_content_reports_every_broken_file_and_sorts_newest_first(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "world").mkdir(parents=True)
    (content / "world" / "old.md").write_text(article_text("Old", "2020-01-01"), encoding="utf-8")
    (content / "new.md").write_text(article_text("New", "2021-01-01"), encoding="utf-8")
    (content / "bad1.md").write_text("---\ntitle: x\n---\n", encoding="utf-8")
    (content / "bad2.md").write_text("no front matter", encoding="utf-8")
    (content / ".hidden").mkdir()
    (content / ".hidden" / "skip.md").write_text("junk", encoding="utf-8")
    articles, errors = read_content(make_config(tmp_path, content_dir=content))
    assert [a.title for a in articles] == ["New", "Old"]
    assert sorted(e.location.path.name for e in errors if e.location) == ["bad1.md", "bad2.md"]


def test_published_leaves_out_drafts_and_future_unless_asked() -> None:
    now = datetime(2021, 1, 1, tzinfo=timezone.utc)
    draft = make_article(id="d", is_draft=True)
    future = make_article(id="f", date=now + timedelta(days=1))
    normal = make_article(id="n")
    everything = (draft, future, normal)
    assert published(everything, now) == (normal,)
    assert published(everything, now, include_drafts=True) == (draft, normal)
    assert published(everything, now, include_future=True) == (future, normal)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("date: 2020-13-45", "'date' is not an ISO 8601 date: '2020-13-45'"),
        ("date: 2020-01-01T25:00:00", "'date' is not an ISO 8601 date"),
        ("date: !!timestamp 2020-13-45", "invalid value in front matter"),
        ("date: 2020-01-01\nupdated: yesterday", "'updated' is not an ISO 8601 date"),
    ],
)
def test_impossible_dates_are_located_errors_not_crashes(line: str, message: str) -> None:
    errors = errors_of(f"---\ntitle: T\n{line}\n---\n")
    assert any(message in e for e in errors), errors


def test_binary_values_are_not_taken_as_text() -> None:
    assert "'title' must be text" in errors_of("---\ntitle: !!binary aGVsbG8=\ndate: 2020-01-01\n---\n")[0]


def test_hugo_post_with_lastmod_and_categories() -> None:
    article = parse(
        '---\ntitle: "Hugo post"\ndate: "2020-09-03T10:00:00+03:00"\nlastmod: 2020-09-05\n'
        "categories: [news]\nweight: 3\n---\nBody\n"
    )
    assert article.updated == datetime(2020, 9, 5, tzinfo=TZ)
    assert article.categories == ("news",) and article.extra == {"weight": 3}


DEEP = 50_000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": ' + "[" * DEEP + "]" * DEEP + "}\nBody\n", "JSON front matter nested too deeply"),
        ("+++\na = " + "[" * DEEP + "]" * DEEP + "\n+++\nBody\n", "TOML front matter nested too deeply"),
        ('+++\ntitle = "T"\ndate = 2020-09-03\nx = "\\u0007"\n+++\n', "U+0007"),
        ('{"title": "T\\u0000", "date": "2020-09-03"}\n', "U+0000"),
    ],
    ids=["deep JSON", "deep TOML", "control in TOML", "NUL in JSON"],
)
def test_toml_and_json_front_matter_are_bounded_too(text: str, message: str) -> None:
    assert any(message in e for e in errors_of(text)), errors_of(text)


FUTURE = "---\ntitle: Later\ndate: 2030-01-01\n---\n\nThe *first* paragraph.\n\nThe second, with [a link](https://e.org/).\n"


@pytest.mark.parametrize(
    ("text", "showing"),
    [
        (FUTURE, Showing(datetime(2026, 1, 1, tzinfo=timezone.utc))),  # not yet due
        (
            FUTURE.replace("date:", "draft: true\ndate:").replace("2030", "2020"),
            Showing(datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ),
        (
            FUTURE.replace("date:", "expiryDate: 2021-01-01\ndate:").replace("2030", "2020"),
            Showing(datetime(2026, 1, 1, tzinfo=timezone.utc)),
        ),
    ],
)
def test_the_text_of_an_article_not_shown_is_converted_only_when_it_is(text: str, showing: Showing) -> None:
    """Markdown costs most of a build; a draft, future or expired article is not shown, so its text
    waits, and is converted to exactly what it would have been once the article is shown."""
    name = "world/later.md"
    deferred = parse_article(RawArticle(name, Path("/site/content") / name, text), TZ, showing)
    assert deferred.body_html == "" and deferred.markdown.startswith("\nThe *first* paragraph.")
    assert deferred.word_count == 0 and deferred.summary == ""
    assert finish(deferred) == parse(text, name)
    assert finish(deferred).summary == "The first paragraph." and finish(deferred).word_count == 8
    shown = dataclasses.replace(
        showing, include_drafts=True, include_future=True, now=datetime(2030, 6, 1, tzinfo=timezone.utc)
    )
    if deferred.expiry_date is None:
        assert parse_article(RawArticle(name, Path("/site/content") / name, text), TZ, shown) == parse(
            text, name
        )


def test_a_paragraph_markdown_would_take_minutes_over_is_an_error_in_a_future_article_too() -> None:
    text = FUTURE + "[" * 2000 + "\n"
    with pytest.raises(BuildFailed, match="a paragraph with 2,001"):
        parse_article(
            RawArticle("a.md", Path("/site/content/a.md"), text),
            TZ,
            Showing(datetime(2026, 1, 1, tzinfo=timezone.utc)),
        )


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2013-11-22 5:00:00 +0000", "2013-11-22T05:00:00+00:00"),  # Jekyll: one-digit hour, spaced offset
        (
            "2023-01-29 18:30:22 2023 -0800",
            "2023-01-29T18:30:22-08:00",
        ),  # the year again (jekyllrb.com has one)
        ("2008-08-23 14:00", "2008-08-23T14:00:00+03:00"),  # no seconds: the site's time zone
        ("2008-08-23T14:00", "2008-08-23T14:00:00+03:00"),
        ("2020-9-3", "2020-09-03T00:00:00+03:00"),
        ("2020/09/03 10:20", "2020-09-03T10:20:00+03:00"),  # Pelican
        ("2019-01-02 03:04:05 -0500 EST", "2019-01-02T03:04:05-05:00"),
        ("2019-01-02T03:04:05+0530", "2019-01-02T03:04:05+05:30"),
        ("2019-01-02 03:04:05.123456789 +05:30", "2019-01-02T03:04:05.123456+05:30"),
        ("2020-09-03T10:30:00Z", "2020-09-03T10:30:00+00:00"),
    ],
)
def test_dates_are_read_as_jekyll_hugo_pelican_and_zola_read_them(text: str, date: str) -> None:
    assert parse_date(text, TZ).isoformat() == date


@pytest.mark.parametrize("text", ["nope", "2020-13-01", "2020-02-30 10:00", "2020-09-03 25:00", "03.09.2020"])
def test_what_is_no_date_stays_an_error(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text, TZ)


@pytest.mark.parametrize("lead", ["\ufeff", "\n\n", "\ufeff\r\n \n", "  \n\t\n"])
def test_a_byte_order_mark_and_blank_lines_before_the_front_matter_are_skipped(lead: str) -> None:
    text = lead + "---\ntitle: Hello\ndate: [2020\n---\nText.\n"
    skipped = lead.count("\n")
    with pytest.raises(BuildFailed) as failed:
        parse_article(RawArticle("w/a.md", Path("/c/w/a.md"), text), TZ)
    location = failed.value.errors[0].location
    assert location is not None and location.line == 4 + skipped  # lines count from the file's top
    fixed = text.replace("[2020", "2020-09-03")
    article = parse_article(RawArticle("w/a.md", Path("/c/w/a.md"), fixed), TZ)
    assert article.title == "Hello" and article.body_html == "<p>Text.</p>"
    assert (
        parse_article(
            RawArticle("w/a.md", Path("/c/w/a.md"), "\ufeffTitle: P\nDate: 2020-09-03\n\nB\n"), TZ
        ).title
        == "P"
    )


@pytest.mark.parametrize(
    ("fields", "image", "alt"),
    [
        ("image: a.jpg", "a.jpg", None),
        ("image: {path: /img/b.png, alt: A bee}", "/img/b.png", "A bee"),  # Jekyll (jekyll-seo-tag)
        ("images: [c.jpg, d.jpg]", "c.jpg", None),  # Hugo: the first
        ("featured_image: g.jpg", "g.jpg", None),
        ("cover: {image: e.jpg, alt: E}", "e.jpg", "E"),  # Hugo themes (PaperMod)
        ("cover: true\nog_image: f.jpg", "f.jpg", None),  # another tool's flag, then Pelican's field
        ("image: h.jpg\nimages: [i.jpg]", "h.jpg", None),
    ],
)
def test_the_lead_image_comes_from_the_field_the_archive_used(
    fields: str, image: str, alt: str | None
) -> None:
    text = f"---\ntitle: A\ndate: 2020-09-03\n{fields}\n---\nText.\n"
    article = parse_article(RawArticle("w/a.md", Path("/c/w/a.md"), text), TZ)
    assert article.image == image and article.extra.get("image_alt") == alt


def test_an_image_field_that_names_no_image_is_an_error_at_its_line() -> None:
    text = "---\ntitle: A\ndate: 2020-09-03\nimage: {width: 300}\n---\nText.\n"
    with pytest.raises(BuildFailed) as failed:
        parse_article(RawArticle("w/a.md", Path("/c/w/a.md"), text), TZ)
    assert "'image' must name an image" in str(failed.value.errors[0]) and "a.md:4:" in str(
        failed.value.errors[0]
    )


def test_a_hugo_section_file_needs_no_title() -> None:
    text = "---\ndescription: All the news\n---\n"
    section = parse_article(RawArticle("world/_index.md", Path("/c/world/_index.md"), text), TZ)
    assert section.kind == "section" and section.title == "" and section.summary == "All the news"
    with pytest.raises(BuildFailed, match="missing 'title'"):
        parse_article(RawArticle("world/a.md", Path("/c/world/a.md"), "---\ndate: 2020-09-03\n---\n"), TZ)
