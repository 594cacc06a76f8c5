"""The lecture as one offline slide deck: every chapter's slides in one reveal.js HTML file, and a PowerPoint.

:func:`explainer.lecture.deck.build_deck` and :func:`explainer.lecture.deck.build_pptx` convert the slides a
render wrote (manim-slides' ``<Scene>.json`` and videos) with manim-slides' own converters;
:func:`explainer.lecture.revealjs.reveal_assets` puts reveal.js beside the HTML, so the deck needs no network.
"""
