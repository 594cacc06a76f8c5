"""The API reference, made from each public module's ``__all__`` so that no public name can be left out.

``.. explainer-api:: MODULE`` documents every name in ``MODULE.__all__``, in
its order, grouped as classes, functions, data and modules, each with autodoc
(classes with their public members). A name added to ``__all__`` is in the
reference at the next build with no edit to the docs.

``.. explainer-scenes::`` does the same for the lecture scenes. A scene file
(``scenes/forward_pass.py``) is a story, not a module with an ``__all__``: its
public name is its scene class. The table of scenes
(:data:`explainer.cli.render.SCENES`: name, file, what it shows) is where
``explainer render`` finds them, so the reference is made from it too.
"""

from __future__ import annotations

import importlib
import inspect
import re

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

__all__ = ["scene_names", "public_entries", "inherited_option", "escape_bars", "ApiDirective", "SceneDirective", "setup"]

# kind -> (the autodoc directive, its options, the rubric above the group)
KINDS = {
    "class": ("autoclass", [":members:", ":show-inheritance:"], "Classes"),
    "function": ("autofunction", [], "Functions"),
    "data": ("py:data", [], "Data"),
    "module": ("py:data", [], "Modules"),
}


def scene_names():
    """``{scene class: its module}`` for every scene this install has, in lecture order."""
    from explainer.cli.render import SCENES, available_scenes

    return {name: f"explainer.scenes.{SCENES[name][0].removesuffix('.py')}" for name in available_scenes()}


def _kind(value):
    if inspect.isclass(value):
        return "class"
    if inspect.isroutine(value):
        return "function"
    if inspect.ismodule(value):
        return "module"
    return "data"


def public_entries(module_name):
    """``[(kind, name)]`` for each name of the module's ``__all__``, in its order."""
    module = importlib.import_module(module_name)
    return [(_kind(getattr(module, name)), name) for name in module.__all__]


def inherited_option(cls):
    """``[":inherited-members: ..."]`` when ``cls`` inherits from one of explainer's own classes (a mixin,
    such as the trace's snapshot readers, whose members are the class's own to its reader), leaving out what
    it inherits from other packages (an ipywidgets VBox's hundred members); else ``[]``."""
    bases = cls.__mro__[1:-1]
    if not any(base.__module__.startswith("explainer") for base in bases):
        return []
    foreign = [base.__name__ for base in bases if not base.__module__.startswith("explainer")]
    return [":inherited-members: " + ", ".join(foreign) if foreign else ":inherited-members:"]


def _doc_comment(module_name, name):
    """The ``#:`` comment above ``name``'s assignment in the module or, for a package, in one of its modules."""
    import sys

    from sphinx.pycode import ModuleAnalyzer, PycodeError

    # only modules already imported (the package imported the name from one of them): the analyzer imports
    # what it reads, and importing explainer.__main__ would run the command line
    candidates = [module_name] + sorted(name for name in list(sys.modules) if name.startswith(module_name + ".")
                                        and name.count(".") == module_name.count(".") + 1)
    for candidate in candidates:
        try:
            docs = ModuleAnalyzer.for_module(candidate).find_attr_docs()
        except PycodeError:
            continue
        if ("", name) in docs:
            return [line for line in docs["", name] if line.strip()]
    return []


def _data_doc(module_name, name, value):
    """What a data entry says: its ``#:`` comment if it has one, then what it holds."""
    shown = 12
    if isinstance(value, dict):
        keys = ", ".join(f"``{key}``" for key in list(value)[:shown]) + (", ..." if len(value) > shown else "")
        holds = f"A table of {len(value)} entries: {keys}."
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = ", ".join(f"``{item!r}``" for item in list(value)[:shown]) + (", ..." if len(value) > shown else "")
        holds = f"{len(value)} items: {items}."
    elif isinstance(value, (str, int, float, bool)) or value is None:
        holds = f"``{value!r}``"
    else:
        holds = f"An instance of ``{type(value).__module__}.{type(value).__qualname__}``."
    return [*_doc_comment(module_name, name), "", holds]


_BARS = re.compile(r"(?<![\\\w|`])\|(?=[^\s|`])([^|`]*?)(?<=[^\s|`])\|(?![\w|])")


def escape_bars(app, what, name, obj, options, lines):
    """``|dW|`` in a docstring is a norm, not a reStructuredText substitution: its bars are escaped.

    The docstrings write norms as ``|x|``, which reStructuredText reads as a
    reference to a substitution ``x`` (an error). Bars inside ````literals````
    and lines that are tables or line blocks (starting with ``|`` or ``+``) are
    left alone.
    """
    for number, line in enumerate(lines):
        if line.lstrip().startswith(("|", "+")):
            continue
        parts = line.split("``")
        parts[::2] = [_BARS.sub(r"\\|\1\\|", part) for part in parts[::2]]  # outside the literals
        lines[number] = "``".join(parts)


def _parse(directive, lines, source):
    holder = nodes.section()
    nested_parse_with_titles(directive.state, StringList(lines, source=source), holder)
    return holder.children


class ApiDirective(SphinxDirective):
    """Every public name of one module (see the module)."""

    required_arguments = 1

    def run(self):
        module_name = self.arguments[0]
        entries = public_entries(module_name)
        lines = [f".. automodule:: {module_name}", ""]
        for kind, (directive, options, rubric) in KINDS.items():
            names = [name for entry_kind, name in entries if entry_kind == kind]
            if not names:
                continue
            lines += [f".. rubric:: {rubric}", ""]
            for name in names:
                target = f"{module_name}.{name}"
                if kind == "module":  # a submodule named in __all__: an entry with its docstring's first line
                    submodule = getattr(importlib.import_module(module_name), name)
                    summary = (submodule.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")
                    lines += [f".. py:data:: {name}", f"   :module: {module_name}", "",
                              f"   The module ``{submodule.__name__}``: {summary}", ""]
                    continue
                if kind == "data":  # no autodata: a dict's docstring would be dict's own
                    value = getattr(importlib.import_module(module_name), name)
                    lines += [f".. py:data:: {name}", f"   :module: {module_name}", f"   :type: {type(value).__name__}", "",
                              *(f"   {line}" for line in _data_doc(module_name, name, value)), ""]
                    continue
                own = options
                if kind == "class":
                    own = [*options, *inherited_option(getattr(importlib.import_module(module_name), name))]
                lines += [f".. {directive}:: {target}", *(f"   {option}" for option in own), ""]
        return _parse(self, lines, f"explainer-api {module_name}")


class SceneDirective(SphinxDirective):
    """A section per scene: its description from the table, then its class's docstring (autodoc)."""

    def run(self):
        from explainer.cli.render import SCENES

        lines = []
        for name, module in scene_names().items():
            lines += [name, "~" * len(name), "", SCENES[name][1].capitalize() + ".", "",
                      f".. autoclass:: {module}.{name}", "   :show-inheritance:", ""]
        return _parse(self, lines, "explainer-scenes")


def setup(app):
    app.add_directive("explainer-api", ApiDirective)
    app.add_directive("explainer-scenes", SceneDirective)
    app.connect("autodoc-process-docstring", escape_bars)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
