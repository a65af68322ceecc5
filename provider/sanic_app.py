"""The concrete Sanic application type, kept apart so the domain never imports the framework."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TypeAlias

from sanic import Sanic
from sanic.config import Config

App: TypeAlias = Sanic[Config, SimpleNamespace]
