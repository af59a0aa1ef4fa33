"""Every file a doc or a comment cites exists: README, docs/*.md and the comments and docstrings of the code.

A citation is a path-like word ending in a file extension ("metrics/loader.py",
"docs/DESIGN.md", "README.md"). Applied migrations are history, never edited:
they may name files as they were then. It counts as found relative to the repository,
to the citing file's folder, or to callwatch/ (comments say "store/state.py");
a bare file name is found anywhere in the repository. Absolute paths, URLs and
example file names on a PBX ("/var/log/asterisk/...") are not ours to check.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITED = re.compile(r"(?<![\w/.:~-])((?:[\w.-]+/)*[\w-]+\.(?:py|md|yaml|yml|toml|ini|sh|mako|css|html|cfg|service))\b")
# Names the docs use for files a user makes or a PBX has, not files of this repository.
NOT_OURS = {"callwatch.yaml", "manager.conf", "cdr.conf", "docker-compose.yml", "alembic.ini",
            "swagger.yaml"}  # swagger.yaml: 3CX's API document, cited by the 3CX preset
REPO_FILES = [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts and ".git" not in p.parts]
REPO_NAMES = {p.name for p in REPO_FILES}


def _comment_text(path: Path) -> str:
    """The comments and docstrings of a Python file (strings that are statements of their own)."""
    source = path.read_text(encoding="utf-8")
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    parts = [tok.string for tok in tokens if tok.type == tokenize.COMMENT]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            parts.append(node.value.value)
    return "\n".join(parts)


def _exists(cited: str, where: Path) -> bool:
    if "/" not in cited:
        return cited in REPO_NAMES
    return any((base / cited).exists() for base in (ROOT, where.parent, ROOT / "callwatch"))


def _missing(path: Path, text: str) -> list[str]:
    found = []
    for match in CITED.finditer(text):
        cited = match.group(1)
        if cited in NOT_OURS or Path(cited).name in NOT_OURS or cited.startswith(("http", "www.")):
            continue
        if not _exists(cited, path):
            found.append(f"{path.relative_to(ROOT)}: {cited}")
    return found


def test_docs_cite_only_files_that_exist() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert [m for doc in docs for m in _missing(doc, doc.read_text(encoding="utf-8"))] == []


def test_comments_cite_only_files_that_exist() -> None:
    folders = ("callwatch", "tests", "bench", "scripts")
    history = ROOT / "callwatch" / "store" / "migrations" / "versions"
    sources = [p for folder in folders for p in sorted((ROOT / folder).rglob("*.py")) if history not in p.parents]
    assert [m for src in sources for m in _missing(src, _comment_text(src))] == []


def test_a_missing_file_is_caught() -> None:
    doc = ROOT / "README.md"
    assert _missing(doc, "see REFERENCE.md and store/nowhere.py, not metrics/loader.py") == [
        "README.md: REFERENCE.md", "README.md: store/nowhere.py",
    ]
