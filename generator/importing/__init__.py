"""`digest import`: fetch pages and feeds politely, decode them, extract the article, turn its HTML into
Markdown, clean the text, skip what is already there, and write drafts.

Imports: base, build, editing.
"""
