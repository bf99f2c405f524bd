"""docs/python.md's Python blocks run, in page order, in one namespace and in a fresh
working folder, as a reader would paste them; a block in ``>>>`` form is a doctest, so the
output it quotes must be what it prints. A block that cannot run here says why just
before it: ``<!-- not run: REASON -->``. A failure names the block's line in the page."""

import doctest
import os

import pytest

from conftest import REPO


def blocks(md):
    out, block, start, previous = [], None, 0, ""
    for i, line in enumerate(md.splitlines(), 1):
        if block is not None:
            if line.startswith("```"):
                out.append((start, "\n".join(block)))
                block = None
            else:
                block.append(line)
        elif line.strip() == "```python" and "<!-- not run" not in previous:
            block, start = [], i + 1
        if line.strip():
            previous = line
    return out


def test_the_python_page_blocks_run(tmp_path, monkeypatch):
    md = (REPO / "docs" / "python.md").read_text()
    found = blocks(md)
    assert found, "docs/python.md has no python blocks"
    monkeypatch.chdir(tmp_path)
    # Paths in the page are relative to the repository root.
    for d in ("scenarios", "examples", "tests"):
        os.symlink(REPO / d, tmp_path / d)
    namespace = {"__name__": "__docs__"}
    parser = doctest.DocTestParser()
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    for line, code in found:
        name = f"docs/python.md:{line}"
        if code.lstrip().startswith(">>>"):
            test = parser.get_doctest(code, namespace, name, "docs/python.md", line - 1)
            out = []
            runner = doctest.DocTestRunner(optionflags=flags)
            runner.run(test, out=out.append, clear_globs=False)
            namespace.update(test.globs)  # the next block sees what this one defined
            if runner.failures:
                pytest.fail(f"{name}: the block does not print what it quotes:\n" + "".join(out))
            continue
        try:
            exec(compile(code, name, "exec"), namespace)
        except Exception as e:  # noqa: BLE001 - the report names the block
            pytest.fail(f"{name}: {type(e).__name__}: {e}")
