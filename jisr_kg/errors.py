"""Errors that the command reports as one clear line instead of a traceback."""

from __future__ import annotations

from pathlib import Path

#: Exit codes shared by every command.
EXIT_OK = 0
EXIT_FAILED = 1  # the check ran and found a problem (violations, coverage below 100%)
EXIT_INPUT = 2  # the input could not be read (a parse error, a missing file, a bad query)


class JisrError(Exception):
    """An error with a message meant for the user, and the exit code that goes with it."""

    exit_code = EXIT_INPUT

    def __init__(self, message: str, *, path: str | Path | None = None, line: int | None = None,
                 column: int | None = None, exit_code: int | None = None, details: str | None = None) -> None:
        super().__init__(message)
        #: What the user needs to see beside the one-line message (the violations of a build), if anything.
        self.details = details
        if exit_code is not None:
            self.exit_code = exit_code
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column

    def __reduce__(self) -> tuple:
        # pickled whole (Exception's own pickling keeps only the message): an error met in a forked
        # child of the build reaches the parent as it was raised
        return _rebuild, (type(self), self.message, self.path, self.line, self.column, self.exit_code, self.details)

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return where + self.message


class InputError(JisrError):
    """An RDF file that does not exist or does not parse."""


class QueryError(JisrError):
    """A query that cannot be found, parsed, bound or run."""


class StoreError(JisrError):
    """A remote SPARQL store that is down, refuses, or answers with an error."""

    exit_code = EXIT_FAILED


class UsageError(JisrError):
    """A command line that cannot be carried out as given: flags that do not go together, an output
    path that would overwrite what the command did not write."""


class CheckFailed(JisrError):
    """The check ran and found a problem (violations in the data)."""

    exit_code = EXIT_FAILED


def _rebuild(cls: type[JisrError], message: str, path: str | None, line: int | None, column: int | None,
             exit_code: int, details: str | None) -> JisrError:
    return cls(message, path=path, line=line, column=column, exit_code=exit_code, details=details)
