"""TrainingStory: the whole run at a glance.

The loss and the batch accuracy are drawn as training goes, while a row of
probe digits (one of each class) shows the network's guess at each snapshot,
flipping from wrong (red) to right (green). At the end, the test set's
confusion matrix. Each phase ends with its speaker notes (``notes_before`` to
``notes_test``): what a teacher says over it, with the numbers the screen
shows, in plain Unicode (the deck renders notes as Markdown).

    manim render -ql scenes/training_story.py TrainingStory
"""

import numpy as np
from manim import *

from explainer.scenes.choice import chosen_step, chosen_trace
from explainer.scenes.palette import PALETTE
from explainer.scenes.pieces import ConfusionGrid, LossCurve, ProbeRow, StepCounter
from explainer.scenes.slides import LectureScene, sweep


def one_of_each_class(labels, n_classes=10):
    """The first probe index of every class present."""
    return [int(np.flatnonzero(labels == c)[0]) for c in range(n_classes) if np.any(labels == c)]


def confusion_cell(confusion, font_size=20):
    """The side of a confusion cell in which the largest count fits at ``font_size`` (legible at 480p): 0.5,
    or more for the 4-digit counts of MNIST's test set (10,000 digits)."""
    widest = Text(str(int(np.max(confusion))), font_size=font_size).width
    return max(0.5, widest / 0.96)  # (the grid writes a count at 0.96 of the cell)


def accuracy_words(confusion, test_accuracy):
    """The test set's score as the caption writes it: ``93.6% right (337 of 360)``."""
    return f"{test_accuracy:.1%} right ({int(np.trace(confusion))} of {int(np.sum(confusion))})"


class TrainingStory(LectureScene):
    def setup(self):
        self.trace = trace = chosen_trace()
        last = chosen_step(trace)
        self.steps = trace.snapshot_steps[trace.snapshot_steps <= last]
        self.samples = one_of_each_class(trace.probe_labels)
        self.camera.background_color = ManimColor(PALETTE.background)

    def construct(self):
        trace, steps = self.trace, self.steps
        end = int(steps[-1]) + 1
        title = Text("Training, step by step", font_size=32, color=PALETTE.text).to_edge(UP, buff=0.25)
        loss = LossCurve(trace.scalars["loss"][:end], width=5.0, height=2.3)
        accuracy = LossCurve(trace.scalars["accuracy"][:end], width=5.0, height=2.3, colour=PALETTE.correct)
        curves = VGroup(VGroup(loss, loss.labels(y="loss")), VGroup(accuracy, accuracy.labels(y="batch accuracy")))
        curves.arrange(RIGHT, buff=1.2).next_to(title, DOWN, buff=0.4)

        row = ProbeRow(trace, self.samples, steps, height=0.8, gap=0.3).move_to(ORIGIN).to_edge(DOWN, buff=0.45)
        row_title = Text("the network's guess for one probe digit of each class", font_size=20,
                         color=PALETTE.muted).next_to(row, UP, buff=0.2).shift(LEFT * 0.8)
        k = ValueTracker(0)
        step_of = lambda: int(steps[int(round(k.get_value()))])
        counter = StepCounter().to_corner(UL, buff=0.35).follow(step_of)
        texts = {}  # right -> Text: made once each

        def score_text():
            right = row.correct(int(round(k.get_value())))
            if right not in texts:
                texts[right] = Text(f"{right} of {len(self.samples)} right", font_size=20,
                                    color=PALETTE.text).next_to(row_title, RIGHT, buff=0.3)
            return texts[right]

        score = score_text().copy()
        shown = {"text": texts[row.correct(0)]}

        def update_score(text):
            new = score_text()
            if new is not shown["text"]:  # become() only when the count changes
                text.become(new)
                shown["text"] = new

        row.follow(k)
        loss.follow(step_of)
        accuracy.follow(step_of)

        self.play(FadeIn(title), Create(loss.axes), Create(accuracy.axes), FadeIn(curves[0][1]), FadeIn(curves[1][1]),
                  FadeIn(counter))
        self.play(FadeIn(row), FadeIn(row_title), FadeIn(score), FadeIn(loss.cursor), FadeIn(accuracy.cursor))
        # before training: the guesses at the first snapshot
        self.next_slide(notes=notes_before(int(steps[0]), row.correct(0), len(self.samples), loss.smoothed[0]))
        score.add_updater(update_score)
        # the curves are drawn up to the cursor as it moves
        drawn = VGroup(loss.drawn_upto(step_of), accuracy.drawn_upto(step_of))
        self.add(drawn)
        self.play(k.animate.set_value(len(steps) - 1), run_time=sweep(min(25, 0.4 * len(steps) + 3)), rate_func=linear)
        self.wait(1)
        last = len(steps) - 1
        self.next_slide(notes=notes_training(len(steps), int(steps[last]), row.correct(last), len(self.samples),
                                             loss.smoothed[-1], accuracy.smoothed[-1]))  # after training

        if trace.evaluation is not None:
            ev = trace.evaluation
            grid = ConfusionGrid(ev.confusion, cell=confusion_cell(ev.confusion))
            caption = Text(f"test set: {accuracy_words(ev.confusion, ev.test_accuracy)}", font_size=22,
                           color=PALETTE.text)
            # the grid takes the whole height (a 4-digit count needs a larger cell), the caption beside it
            VGroup(grid, caption).arrange(RIGHT, buff=0.5, aligned_edge=DOWN).move_to(ORIGIN)
            score.clear_updaters()
            self.play(FadeOut(VGroup(title, *curves, counter)), FadeOut(row), FadeOut(row_title), FadeOut(score),
                      FadeOut(drawn), FadeOut(loss.cursor), FadeOut(accuracy.cursor))
            self.play(FadeIn(grid), FadeIn(caption))
            self.next_slide(notes=notes_test(ev.confusion, ev.test_accuracy))  # the test set


# -- speaker notes: what a teacher says over each phase, with the numbers the screen shows -----------------------
def loss_text(v):
    """A loss read off the curve, for the notes: ``2.302``."""
    return f"{v:.3f}"


def notes_before(step, right, n, first_loss):
    """Phase 1: the guesses before training (at the first snapshot)."""
    when = ("Before training the weights are random, so the guesses are no better than chance." if step == 0
            else f"The first snapshot is at step {step}, early in training.")
    return (f"{when} The row holds one probe digit of each class, held out and never trained on, with the "
            "network's guess under it: green right, red wrong. "
            f"At step {step} it gets {right} of {n} right; the loss curve starts at {loss_text(first_loss)}.")


def notes_training(n_snapshots, last, right, n, final_loss, final_accuracy):
    """Phase 2: the run, snapshot by snapshot, to the last step."""
    return ("Training repeats one move: a step downhill on one batch's loss. As it goes, watch the loss fall, "
            "the batch accuracy rise and the guesses flip from red to green. "
            f"Through {n_snapshots} snapshots to step {last}: the drawn loss (a moving mean of the batch losses) "
            f"ends at {loss_text(final_loss)}, the batch accuracy at {final_accuracy:.0%}, and {right} of {n} "
            "probe digits are right.")


def notes_test(confusion, test_accuracy):
    """Phase 3: the test set's confusion matrix, and its most frequent mistake."""
    confusion = np.asarray(confusion)
    wrong = confusion - np.diag(np.diag(confusion))  # the mistakes: off the diagonal
    true, guess = np.unravel_index(int(np.argmax(wrong)), wrong.shape)
    worst = (f"The most frequent mistake: {int(wrong[true, guess])} true {true}s guessed as {guess}." if wrong.any()
             else "It makes no mistake on it.")
    return ("The real test is digits the network never saw in training: the test set. "
            f"It gets {accuracy_words(confusion, test_accuracy)}. Each row is a true class and each column a guess; "
            f"the diagonal holds the right answers, every other cell a confusion. {worst}")
