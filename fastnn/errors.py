"""Exceptions and warnings raised by fastnn, and how messages name epochs.

Epochs are counted from 0 wherever fastnn stores them (``DivergenceError.epoch``,
``SweepResult.diverged_epoch``, ``history[e]``); messages name an epoch both ways, as
"the 3rd epoch (epoch=2)", so that neither count can be misread for the other.
"""


def ordinal(n):
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def epoch_phrase(epoch):
    """The 0-based ``epoch`` in words: 'the 1st epoch (epoch=0)'."""
    return f"the {ordinal(int(epoch) + 1)} epoch (epoch={int(epoch)})"


class TrainingWarning(UserWarning):
    """Training ran but its result is probably not what was meant: no parameter moved
    (a dead ReLU, a zero gradient), or per-sample steps over class-sorted data in order."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or parameter and stopped.

    Attributes: ``epoch`` (0-based index of the epoch that diverged) and ``history``
    (float64 array of the per-epoch losses before it, ``epoch`` values). The network
    keeps the parameters it had at the start of that epoch, the last finite ones.

    It pickles with its attributes (for multiprocessing and the like).
    """

    def __init__(self, epoch, history):
        self.epoch = int(epoch)
        self.history = history
        if self.epoch == 0:
            kept = "its initial parameters"
        else:
            done = f"{self.epoch} completed epoch" + ("s" if self.epoch > 1 else "")
            kept = f"its parameters after {done} (the last finite ones)"
        super().__init__(
            f"training diverged in {epoch_phrase(self.epoch)}: the loss or the parameters became NaN/inf; "
            f"the network keeps {kept}. Try a smaller lr."
        )

    def __reduce__(self):
        return (type(self), (self.epoch, self.history))
