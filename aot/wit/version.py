"""Semantic versions as WIT uses them: package versions and `@since`/`@deprecated` gates.

WIT versions are full SemVer 2.0 (`MAJOR.MINOR.PATCH`, optional `-pre.release`
and `+build`).  Two jobs only: parse the text, and order versions by SemVer
precedence (build metadata ignored, a pre-release below its release, numeric
pre-release identifiers below alphanumeric ones).  Package references match
versions exactly, as wasm-tools does, so no range logic lives here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import total_ordering

_NUM = r"(?:0|[1-9]\d*)"
_IDENT = r"(?:[0-9A-Za-z-]+)"
_SEMVER = re.compile(
    rf"(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>{_IDENT}(?:\.{_IDENT})*))?"
    rf"(?:\+(?P<build>{_IDENT}(?:\.{_IDENT})*))?\Z")


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()
    build: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Version:
        """The version `text` spells; ValueError (with the reason) when it is not SemVer."""
        m = _SEMVER.match(text)
        if m is None:
            raise ValueError(f"`{text}` is not a semantic version (MAJOR.MINOR.PATCH, e.g. 0.2.0)")
        pre = tuple(m["pre"].split(".")) if m["pre"] else ()
        for ident in pre:
            if ident.isdigit() and len(ident) > 1 and ident[0] == "0":
                raise ValueError(f"`{text}`: numeric pre-release identifier `{ident}` has a leading zero")
        build = tuple(m["build"].split(".")) if m["build"] else ()
        return cls(int(m["major"]), int(m["minor"]), int(m["patch"]), pre, build)

    def _key(self) -> tuple:
        # A release sorts after every pre-release of the same MAJOR.MINOR.PATCH; numeric
        # identifiers sort numerically and below alphanumeric ones (SemVer 2.0, rule 11).
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        # Precedence equality: build metadata does not count (SemVer 2.0, rule 10).
        return isinstance(other, Version) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.pre:
            text += "-" + ".".join(self.pre)
        if self.build:
            text += "+" + ".".join(self.build)
        return text
