"""Failures only the command line meets (how it was called); presenters handle them too."""

from __future__ import annotations

from domain.errors import FailureValue


class ConfirmationRequired(FailureValue):
    action: str

    @property
    def message(self) -> str:
        return f"{self.action} needs confirmation: run it on a terminal or add --yes."


class NoApiKeyInput(FailureValue):
    @property
    def message(self) -> str:
        return (
            "No API key given: pipe it on standard input (`bm cloud api-key save -`) "
            "or run on a terminal to be prompted."
        )


class SeveralKeyLines(FailureValue):
    """Standard input held more than one non-blank line: which one was meant is a guess."""

    lines: int

    @property
    def message(self) -> str:
        return (
            f"Standard input holds {self.lines} lines; give exactly one API key "
            "(`bm cloud api-key save` prompts for it, or `bm cloud api-key save - < FILE`)."
        )


class LoginCancelled(FailureValue):
    @property
    def message(self) -> str:
        return "Login cancelled; nothing was saved."


CliFailure = ConfirmationRequired | NoApiKeyInput | SeveralKeyLines | LoginCancelled
