"""The browser is a child process: it never inherits the API key (SPEC §7)."""

from __future__ import annotations

import os
import stat
import sys
import time
from pathlib import Path

import pytest

from adapters.webbrowser_browser import WebbrowserBrowser

KEY = "bmc_canarycanarycanary1234"


def test_the_browser_command_gets_the_url_but_not_the_api_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "browser-env.txt"
    hook = tmp_path / "browser"
    hook.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        f"open({str(record)!r}, 'w').write(repr(sys.argv[1:]) + '\\n' + repr(dict(os.environ)))\n"
    )
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("BASIC_MEMORY_CLOUD_API_KEY", KEY)
    browser = WebbrowserBrowser({"BROWSER": str(hook), "DISPLAY": ":0"})

    assert browser.open("http://127.0.0.1:9/device?user_code=BCDF-GHJK").unwrap() is None

    for _ in range(200):  # the hook runs as a separate process
        if record.exists() and record.read_text():
            break
        time.sleep(0.01)
    text = record.read_text()
    assert "user_code=BCDF-GHJK" in text
    assert KEY not in text
    assert os.environ["BASIC_MEMORY_CLOUD_API_KEY"] == KEY  # restored for this process
