"""The numbers each chapter (each scene) shows, computed from a trace, without Manim.

A scene only draws; what it writes and where its pictures come from is
worked out here, one module per chapter, so that every number on screen can be
checked against the trace in a test::

    from explainer.chapters.backprop import backprop_story
    story = backprop_story(trace, sample=3, step=40)
    story.output_delta, story.update, story.loss_before, ...

Import the chapter's module itself (this package imports none of them).
"""
