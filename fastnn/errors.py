"""Exceptions raised by fastnn."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or parameter and stopped.

    Attributes: ``epoch`` (0-based index of the epoch that diverged) and ``history``
    (float64 array of the per-epoch losses before it). The network keeps the parameters
    it had at the start of that epoch, the last finite ones.

    It pickles with its attributes (for multiprocessing and the like).
    """

    def __init__(self, epoch, history):
        self.epoch = int(epoch)
        self.history = history
        kept = "its initial parameters" if self.epoch == 0 else f"its parameters from the end of epoch {self.epoch}"
        super().__init__(
            f"training diverged in epoch {self.epoch + 1} (loss or parameters became NaN/inf); "
            f"the network keeps {kept}. Try a smaller lr."
        )

    def __reduce__(self):
        return (type(self), (self.epoch, self.history))
