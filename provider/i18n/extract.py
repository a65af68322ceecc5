"""Babel extraction of the refusals the core words for people (`babel.cfg`, `[core: …]`).

The core stays free of gettext: its messages are plain English, found here by their place, and
translated where a page shows them. What counts as a message:
- `default_message = "…"` of a domain error;
- the first argument, when it is a literal, of a refusal the core raises (a class of
  `provider.domain_errors`, `FieldRefused`, or `ClientSpecError`, whose placeholders are named);
- the reasons of a field: literals appended to `problems` or assigned to `problems[field]`,
  given to `refuse(field, reason)`, and in `ValidationFailed({…})`;
- what a scope lets an app do (`Scope(name, description)`), shown on the consent page;
- module constants named `*_RULE`, and upper-case constants that are sentences.
A `Phrase("… %(name)s …", name=…)` anywhere in the core is a message with named placeholders.
An f-string whose values are module constants (`f"must be at least {MIN_LENGTH} characters"`)
counts with those values in; one built from run-time values cannot be looked up and stays English.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

REFUSALS = {"FieldRefused", "ClientSpecError"}
Found = tuple[int, str | None, str, list[str]]


def _refusal_names() -> set[str]:
    from provider import domain_errors

    return REFUSALS | {
        name
        for name, value in vars(domain_errors).items()
        if isinstance(value, type) and issubclass(value, domain_errors.DomainError)
    }


def _module_constants(tree: ast.Module) -> dict[str, object]:
    """`NAME = 10` at the top of a module: an f-string made of these reads the same every time."""
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, (int, str)):
                    constants[target.id] = node.value.value
    return constants


def _text(node: ast.AST | None, constants: dict[str, object] | None = None) -> str | None:
    """A literal, or an f-string whose every value is a module constant, as the text it makes."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.strip():
        return node.value
    if isinstance(node, ast.JoinedStr) and constants:
        parts: list[str] = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif (
                isinstance(part, ast.FormattedValue)
                and isinstance(part.value, ast.Name)
                and part.value.id in constants
                and part.conversion == -1
                and part.format_spec is None
            ):
                parts.append(str(constants[part.value.id]))
            else:
                return None
        return "".join(parts)
    return None


def _is_problems_entry(target: ast.AST) -> bool:
    """`problems["field"] = [...]`: the reasons of one field."""
    return (
        isinstance(target, ast.Subscript)
        and isinstance(target.value, ast.Name)
        and target.value.id == "problems"
    )


def _called(node: ast.Call) -> str:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return ""


def _messages(tree: ast.Module, refusals: set[str]) -> Iterator[tuple[int, str]]:
    constants = _module_constants(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if _is_problems_entry(target) and isinstance(node.value, ast.List):
                for item in node.value.elts:
                    if (reason := _text(item, constants)) is not None:
                        yield item.lineno, reason
            name = target.id if isinstance(target, ast.Name) else ""
            text = _text(node.value)
            sentence = text is not None and name.isupper() and " " in text and text.endswith(".")
            if text and (name == "default_message" or name.endswith("_RULE") or sentence):
                yield node.lineno, text
        elif isinstance(node, ast.Call):
            called = _called(node)
            first = _text(node.args[0], constants) if node.args else None
            if called in refusals and first:
                yield node.lineno, first
            if called == "Phrase" and first:
                yield node.lineno, first
            if called == "Scope" and len(node.args) > 1 and (described := _text(node.args[1])):
                yield node.lineno, described
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            is_problem = called == "append" and isinstance(receiver, ast.Name)
            if is_problem and receiver.id == "problems" and first:  # type: ignore[union-attr]
                yield node.lineno, first
            if called == "refuse" and len(node.args) == 2 and (reason := _text(node.args[1])):
                yield node.lineno, reason
            if called == "ValidationFailed" and node.args:
                for reasons in ast.walk(node.args[0]):
                    if isinstance(reasons, ast.List):
                        for item in reasons.elts:
                            if (text := _text(item)) is not None:
                                yield item.lineno, text


def extract_core(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[Found]:
    tree = ast.parse(fileobj.read())
    for lineno, text in _messages(tree, _refusal_names()):
        yield lineno, None, text, []
