"""What a model URI names, parsed in one place (no MLflow call; ``resolve`` looks it up).

The forms the project uses: ``runs:/RUN_ID/PATH`` (a run's logged model),
``models:/m-ID`` (an MLflow 3 logged model), ``models:/NAME@ALIAS`` and
``models:/NAME/VERSION`` (registry versions). Anything else (a local folder, another
scheme) is passed to MLflow as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["run", "logged", "alias", "version", "name", "other"]


@dataclass(frozen=True)
class ParsedUri:
    """A model URI split into what it points at.

    ``kind`` says which form; ``name`` is the run id (``run``), logged model id
    (``logged``) or registered model name; ``ref`` the alias or version, else ``""``.
    """

    kind: Kind
    name: str
    ref: str = ""

    @property
    def pinned_version(self) -> tuple[str, str] | None:
        """(name, version) of a ``models:/NAME/N`` URI with a numeric version, else None."""
        if self.kind == "version" and self.ref.isdigit():
            return self.name, self.ref
        return None


def parse_model_uri(uri: str) -> ParsedUri:
    """Split ``uri`` into its form and parts; never raises, never calls MLflow."""
    if uri.startswith("runs:/"):
        return ParsedUri("run", uri.removeprefix("runs:/").split("/", 1)[0])
    target = uri.removeprefix("models:/")
    if target == uri:
        return ParsedUri("other", uri)
    if "@" in target:
        name, alias = target.split("@", 1)
        return ParsedUri("alias", name, alias)
    bare = target.strip("/")
    if bare.startswith("m-") and "/" not in bare:
        return ParsedUri("logged", bare)
    if "/" in target:
        name, version = target.rsplit("/", 1)
        return ParsedUri("version", name, version)
    return ParsedUri("name", target)
