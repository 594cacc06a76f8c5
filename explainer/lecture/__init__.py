"""A lecture folder from one run: the chapter videos, one slide deck, the figures and a handout."""
