"""Errors the user can act on. Every one names the problem and the fix; the CLI prints it on one line and exits 2."""
from __future__ import annotations


class InputError(Exception):
    """Bad input (not a video, truncated, no person, too short, wrong view, missing model...).

    `problem` says what is wrong, `fix` what to do about it. str() gives both on one line.
    """

    exit_code = 2

    def __init__(self, problem: str, fix: str = "") -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}".strip())


class ModelError(InputError):
    """A pose model file is missing or does not match its recorded sha256."""
