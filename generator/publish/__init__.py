"""Publishing a built site: `digest deploy` and its targets (folder, git branch, S3), and
`digest newsletter` with its SMTP mailer.

Imports: base, build.
"""
