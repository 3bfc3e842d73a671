"""A client's best and worst posts of the period, as the HTML and Markdown reports show them.

A link from the data is the client's (or the platform's) text: only an http(s) address becomes a link; any
other (javascript:, data:, a bare word) is shown as text. Escaping is the renderer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from kpi_rules.i18n import translate
from kpi_rules.render.formatting import format_date, format_value
from kpi_rules.results import PostRanking, PostResult, Scorecard

CAPTION_CHARACTERS = 120  # of a post's text: the report names the post, it does not reprint it


@dataclass(frozen=True)
class PostLine:
    date: str
    caption: str  # the post's text (shortened), else its link
    href: str | None  # the link, where it is http(s)
    link: str | None  # a link that is not http(s), shown as text
    value: str


@dataclass(frozen=True)
class PostSections:
    title: str
    value_heading: str
    sections: tuple[tuple[str, tuple[PostLine, ...]], ...]  # (heading, posts), the best then the worst


def clickable(link: str | None) -> str | None:
    """``link`` if it is an http(s) address with a host, else None."""
    if not link:
        return None
    parts = urlsplit(link.strip())
    return link.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def post_sections(card: Scorecard) -> PostSections | None:
    ranking: PostRanking | None = card.posts
    if ranking is None or not (ranking.best or ranking.worst):
        return None
    lang = card.lang
    sections = [(translate("Best posts", lang), ranking.best)]
    if ranking.worst:
        sections.append((translate("Worst posts", lang), ranking.worst))
    return PostSections(
        title=translate("Posts by {kpi}", lang, kpi=ranking.label),
        value_heading=ranking.label,
        sections=tuple((heading, tuple(_line(post, ranking, card) for post in posts)) for heading, posts in sections),
    )


def _line(post: PostResult, ranking: PostRanking, card: Scorecard) -> PostLine:
    href = clickable(post.link)
    text = " ".join((post.text or "").split())
    caption = text if len(text) <= CAPTION_CHARACTERS else text[: CAPTION_CHARACTERS - 1].rstrip() + "…"
    return PostLine(
        date=format_date(post.date, card.lang),
        caption=caption or (post.link or "").strip(),
        href=href,
        link=post.link.strip() if post.link and not href and caption else None,
        value=format_value(post.value, ranking.unit, card.currency, card.lang),
    )
