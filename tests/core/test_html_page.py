"""The shared page helpers of the HTML outputs."""

from __future__ import annotations

import base64
import hashlib

from mk2ds.core.html_page import content_security_policy, fill_template


def test_placeholders_are_filled_once_and_inserted_text_is_not_scanned_again() -> None:
    page = fill_template(
        "<title>@TITLE@</title><p>@BODY@</p>@SCRIPT@",
        {"@TITLE@": "@SCRIPT@", "@BODY@": "b", "@SCRIPT@": "<script>s</script>"},
    )
    assert page == "<title>@SCRIPT@</title><p>b</p><script>s</script>"


def test_the_policy_allows_exactly_the_inline_script_and_style() -> None:
    policy = content_security_policy("run()", "p{}")
    digest = base64.b64encode(hashlib.sha256(b"run()").digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy and "connect-src 'none'" in policy
    assert '"' not in policy  # safe inside content="..."
