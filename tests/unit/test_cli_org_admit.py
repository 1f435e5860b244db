"""`projchain org admit` checks the USCC it is given before it touches keys or the chain."""

from __future__ import annotations

import argparse

import pytest

from node_api import cli


@pytest.mark.parametrize(
    ("uscc", "why"),
    [
        ("91350100M000100Y4Z", "check character should be 3, got Z"),
        (
            "94620825MA72BT6H8M",
            "organisation category (position 2) '4' is not one that registration authority 9",
        ),
        ("9162082", "must be 18 characters, got 7"),
    ],
)
def test_an_invalid_uscc_is_refused_with_a_clear_error(
    uscc: str, why: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "_org_admit", lambda args: pytest.fail("admission must not start"))
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["org", "admit", "--name", "庄浪县测试局", "--uscc", uscc, "--roles", "supervisor"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --uscc: {uscc!r} is not a valid USCC: {why}" in err


def test_a_valid_uscc_is_passed_on_upper_cased(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(cli, "_org_admit", lambda args: seen.append(args) or 0)
    assert (
        cli.main(["org", "admit", "--name", "x", "--uscc", "11620825013920439x", "--roles", "supervisor"])
        == 0
    )
    assert seen[0].uscc == "11620825013920439X"
