"""The release digest that keys the shared cache (kinshop.core.release)."""

from __future__ import annotations

from kinshop.core.release import code_digest


def _tree(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_template_or_module_changed_is_another_release_and_tests_are_not(tmp_path):
    _tree(
        tmp_path,
        {
            "web/views.py": "x = 1\n",
            "web/templates/page.html": "<p>{{ a }}</p>",
            "web/tests/test_views.py": "def test(): pass\n",
            "web/__pycache__/views.cpython-311.pyc": "compiled",
        },
    )
    first = code_digest(tmp_path)
    assert code_digest(tmp_path) == first

    # a test or a compiled file changed: the same release
    _tree(tmp_path, {"web/tests/test_views.py": "def test(): assert 1\n"})
    _tree(tmp_path, {"web/__pycache__/views.cpython-311.pyc": "again"})
    assert code_digest(tmp_path) == first

    # a template changed, then a module: each a new release
    _tree(tmp_path, {"web/templates/page.html": "<p>{{ b }}</p>"})
    second = code_digest(tmp_path)
    _tree(tmp_path, {"web/views.py": "x = 2\n"})
    assert len({first, second, code_digest(tmp_path)}) == 3


def test_a_file_moved_is_another_release(tmp_path):
    _tree(tmp_path, {"a/page.html": "same"})
    before = code_digest(tmp_path)
    (tmp_path / "a/page.html").rename(tmp_path / "a/other.html")
    assert code_digest(tmp_path) != before
