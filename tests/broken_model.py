"""A picklable model that loads fine and raises when asked to predict."""

import numpy as np


class RaisesOnPredict:
    feature_names_in_ = np.array(["x1", "x2", "colour", "noise"])
    classes_ = np.array([0, 1])

    def predict(self, X):
        raise RuntimeError("the model's feature store is offline")

    def predict_proba(self, X):
        raise RuntimeError("the model's feature store is offline")
