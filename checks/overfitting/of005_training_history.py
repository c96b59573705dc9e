"""OF005 training-history: validation loss rising while training loss falls."""

from __future__ import annotations

from auditor.contract.check import Check, Param, Threshold
from auditor.contract.results import Evidence, Findings, Metric
from auditor.toolkit.figures import new_figure, to_svg
from auditor.util.lazy import lazy_module

np = lazy_module("numpy")


class TrainingHistory(Check):
    """Training history: validation loss rising while training loss falls

    What it checks:
        A run's per-epoch training and validation losses (``--history``). The best
        epoch is the one with the lowest validation loss. Judged: how far the final
        validation loss has risen above that minimum, relative to it (warn above 0.05,
        fail above 0.15). Also reported: epochs trained past the best, whether the
        training loss kept falling meanwhile (the signature of overfitting), and the
        epoch at which early stopping with the given patience would have stopped.

    Why it matters:
        Training past the validation minimum trades generalisation for fit to the
        training rows. Keeping the final weights instead of the best ones ships a
        worse model than the run produced.

    How to fix:
        Use early stopping on the validation loss with a patience, and restore the
        best weights; add regularisation (weight decay, dropout, augmentation).

    References:
        Prechelt (1998), Early stopping - but when?, Neural Networks: Tricks of the Trade.
        Goodfellow, Bengio & Courville (2016), Deep Learning, section 7.8.
    """

    id = "OF005"
    name = "training-history"
    area = "overfitting"
    severity = "medium"
    needs = frozenset({"history"})
    params = {
        "patience": Param(default=5, kind="int", help="epochs without improvement before early stopping", low=1, high=1000),
        "min_delta": Param(default=0.0, kind="float", help="smallest decrease of the validation loss that counts as improvement", low=0.0),
    }
    thresholds = {
        "val_loss_rise": Threshold(direction="above", warn=0.05, fail=0.15, low=0,
                                   help="(final validation loss - minimum) / minimum"),
    }
    practices = ("P3.2", "P3.3", "P4.4")
    clauses = ("eu_ai_act:Art. 9", "eu_ai_act:Art. 15", "nist_ai_rmf:MEASURE 2.5", "iso_42001:A.6.2.4")
    references = (
        "Prechelt (1998), Early stopping - but when?, Neural Networks: Tricks of the Trade",
        "Goodfellow, Bengio & Courville (2016), Deep Learning, section 7.8",
    )

    def run(self, ctx, params):
        h = ctx.history
        epochs, train, val = h["epoch"].to_numpy(), h["train_loss"].to_numpy(float), h["val_loss"].to_numpy(float)
        best = int(np.argmin(val))
        rise = float((val[-1] - val[best]) / abs(val[best])) if val[best] != 0 else float(val[-1] - val[best])
        # Early stopping as Keras and PyTorch Lightning implement it: stop after `patience`
        # epochs without an improvement larger than min_delta.
        stop, best_so_far, wait = len(val) - 1, val[0], 0
        for i in range(1, len(val)):
            if val[i] < best_so_far - params["min_delta"]:
                best_so_far, wait = val[i], 0
            else:
                wait += 1
                if wait >= params["patience"]:
                    stop = i
                    break
        train_fell = bool(train[-1] < train[best])
        fig = new_figure(6.5, 3.4)
        ax = fig.add_subplot()
        ax.plot(epochs, train, color="#3b5b92", label="training loss")
        ax.plot(epochs, val, color="#c0652b", label="validation loss")
        ax.axvline(epochs[best], color="#2e7d4f", linestyle="--", linewidth=1, label=f"best epoch ({epochs[best]:g})")
        if stop < len(val) - 1:
            ax.axvline(epochs[stop], color="#777777", linestyle=":", linewidth=1,
                       label=f"early stop, patience {params['patience']} ({epochs[stop]:g})")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(color="#dddddd", linewidth=0.6)
        past = len(val) - 1 - best
        early = (
            f"early stopping with patience {params['patience']} would have stopped at epoch {epochs[stop]:g}"
            if stop < len(val) - 1 else f"early stopping with patience {params['patience']} would not have stopped"
        )
        return Findings(
            summary=(
                f"The validation loss is lowest at epoch {epochs[best]:g} of {len(val)}; the run went on {past} epochs "
                f"and ended {rise:.1%} above that minimum while the training loss {'kept falling' if train_fell else 'did not fall'}; {early}."
            ),
            metrics={
                "val_loss_rise": Metric(rise, description="(final validation loss - minimum) / minimum"),
                "epochs_past_best": Metric(past, description="epochs trained after the best validation loss"),
                "best_epoch": Metric(float(epochs[best]), description="epoch with the lowest validation loss"),
                "early_stop_epoch": Metric(float(epochs[stop]), description=f"where early stopping (patience {params['patience']}) stops"),
            },
            evidence=[Evidence(
                title="Loss at key epochs",
                columns=["epoch", "role", "training loss", "validation loss"],
                rows=[[float(epochs[0]), "first", float(train[0]), float(val[0])],
                      [float(epochs[best]), "best validation", float(train[best]), float(val[best])],
                      [float(epochs[stop]), "early stop", float(train[stop]), float(val[stop])],
                      [float(epochs[-1]), "last", float(train[-1]), float(val[-1])]],
            )],
            figures=[to_svg(fig, title="Training history", caption="Per-epoch losses; dashed: best validation epoch; dotted: early stop.")],
            recommendation=(
                "Stop training on the validation loss with a patience and restore the best epoch's weights; "
                "if the validation loss rises early, add regularisation."
            ),
        )
