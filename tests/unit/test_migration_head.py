"""The serving node's migration head, read without Alembic, is Alembic's."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from connect.storage import migrate


def test_head_and_revisions_agree_with_alembic() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.current_head() == script.get_current_head()
    assert migrate.known_revisions() == {rev.revision for rev in script.walk_revisions()}
    for rev in script.walk_revisions():
        down = rev.down_revision
        expected = () if down is None else (down,) if isinstance(down, str) else tuple(down)
        assert migrate.revision_graph()[rev.revision] == expected


def test_a_second_head_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.py").write_text('revision: str = "a"\ndown_revision = None\n')
    (tmp_path / "b.py").write_text('revision = "b"\ndown_revision: str | None = "a"\n')
    (tmp_path / "c.py").write_text('revision = "c"\ndown_revision = ("a",)\n')
    (tmp_path / "helpers.py").write_text("x = 1\n")
    monkeypatch.setattr(migrate, "VERSIONS", tmp_path)
    migrate.current_head.cache_clear()
    try:
        assert migrate.revision_graph() == {"a": (), "b": ("a",), "c": ("a",)}
        with pytest.raises(RuntimeError, match="several heads: b, c"):
            migrate.current_head()
    finally:
        migrate.current_head.cache_clear()
