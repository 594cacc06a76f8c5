"""``explainer-scenes``: the API reference of every lecture scene, from the table the ``explainer`` command uses.

A scene file (``scenes/forward_pass.py``) is a story, not a module with an
``__all__``: its public name is its scene class. The table of scenes
(:data:`explainer.cli.render.SCENES`: name, file, what it shows) is where
``explainer render`` finds them, so the reference is made from it too: a
scene added there gets its entry here with no edit to the docs.
"""

from __future__ import annotations

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

__all__ = ["scene_names", "SceneDirective", "setup"]


def scene_names():
    """``{scene class: its module}`` for every scene this install has, in lecture order."""
    from explainer.cli.render import SCENES, available_scenes

    return {name: f"explainer.scenes.{SCENES[name][0].removesuffix('.py')}" for name in available_scenes()}


class SceneDirective(SphinxDirective):
    """A section per scene: its description from the table, then its class's docstring (autodoc)."""

    def run(self):
        from explainer.cli.render import SCENES

        lines = []
        for name, module in scene_names().items():
            lines += [name, "-" * len(name), "", SCENES[name][1].capitalize() + ".", "",
                      f".. autoclass:: {module}.{name}", "   :show-inheritance:", ""]
        holder = nodes.section()
        nested_parse_with_titles(self.state, StringList(lines, source="explainer-scenes"), holder)
        return holder.children


def setup(app):
    app.add_directive("explainer-scenes", SceneDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
