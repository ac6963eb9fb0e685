"""The plain build stages, each pure: config, theme, content (files, front matter, fields), markup
and its embeds, topics, editions, media and its social cards, plan and its page kinds, views,
render, feeds, search, security headers, links and the writer, the only code that touches the
output folder. No stage knows of caches: what it needs is handed in.

Imports: base.
"""
