"""Publishing from CI: the workflow `digest init --ci github|gitlab` writes into a site.

Each builds the site on every push to the default branch and on a schedule, so that an article
dated for later (an embargo) goes live within the hour it is due, after `digest check`, with the
build cache restored from the last run, and deploys to GitHub Pages or GitLab Pages. The cache is
sealed with a key (see README, Safety): a shared secret `DIGEST_CACHE_KEY` lets one run use the
last one's; without it every run builds from scratch, correctly.
"""

from __future__ import annotations

from pathlib import Path

from generator.base.errors import BuildFailed, SiteError

GITHUB = """\
# Publish the digest to GitHub Pages (written by `digest init --ci github`).
# In the repository's Settings > Pages, choose "GitHub Actions" as the source. Add a secret
# DIGEST_CACHE_KEY (any long random text) so that each run reuses the last one's build cache.
name: Publish the digest

on:
  push:
    branches: [main]
  schedule:
    - cron: "7 * * * *"  # every hour: an article dated for later goes live within the hour it is due
  workflow_dispatch:

permissions:
  contents: read
  pages: write
  id-token: write

concurrency:
  group: pages
  cancel-in-progress: false

jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - name: Install newsdigest
        run: python -m pip install newsdigest
      - name: Restore the build cache
        uses: actions/cache@v4
        with:
          path: .digest-cache
          key: digest-cache-${{ github.run_id }}
          restore-keys: digest-cache-
      - id: pages
        uses: actions/configure-pages@v5
      - name: Check
        run: digest check
        env:
          DIGEST_CACHE_KEY: ${{ secrets.DIGEST_CACHE_KEY }}
      - name: Build
        run: digest build --base-url "${{ steps.pages.outputs.base_url }}/"
        env:
          DIGEST_CACHE_KEY: ${{ secrets.DIGEST_CACHE_KEY }}
          DIGEST_DURABLE: "0"  # a throwaway machine: no need to flush to its disk
      - uses: actions/upload-pages-artifact@v3
        with:
          path: site

  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: github-pages
      url: ${{ steps.deployment.outputs.page_url }}
    steps:
      - id: deployment
        uses: actions/deploy-pages@v4
"""

GITLAB = """\
# Publish the digest to GitLab Pages (written by `digest init --ci gitlab`).
# In Build > Pipeline schedules, add an hourly schedule ("7 * * * *") so that an article dated for
# later goes live within the hour it is due. In Settings > CI/CD > Variables, add a masked variable
# DIGEST_CACHE_KEY (any long random text) so that each run reuses the last one's build cache.
pages:
  image: python:3.12-slim
  variables:
    PIP_CACHE_DIR: "$CI_PROJECT_DIR/.pip-cache"
    DIGEST_DURABLE: "0"
  cache:
    key: digest-cache
    paths:
      - .digest-cache/
      - .pip-cache/
  script:
    - python -m pip install newsdigest
    - digest check
    - digest build --output public --base-url "$CI_PAGES_URL/"
  artifacts:
    paths:
      - public
  rules:
    - if: $CI_PIPELINE_SOURCE == "schedule"
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
"""

WORKFLOWS = {
    "github": (Path(".github/workflows/digest.yml"), GITHUB),
    "gitlab": (Path(".gitlab-ci.yml"), GITLAB),
}


def write_ci(folder: Path, kind: str) -> Path:
    """Write the `kind` workflow into the site at `folder`; refuses to replace one that is there."""
    relative, text = WORKFLOWS[kind]
    target = folder / relative
    if target.exists():
        raise BuildFailed(
            [SiteError(f"{target} is there already", None, "remove it to have it written again")]
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
