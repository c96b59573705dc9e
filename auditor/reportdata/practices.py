"""The practices auditor enforces, by code, with a short title for reports.

The codes and their titles below are the list itself (the practice guide they come from
is not shipped); a check lists the codes it
enforces in its ``practices`` attribute and the renderers show them next to its
findings ("enforces P1.2 Handle missing values deliberately").
"""

from __future__ import annotations

PRACTICES: dict[str, str] = {
    # P1 Data preparation and preprocessing
    "P1.1": "Collect data that covers the situations the model will meet",
    "P1.2": "Handle missing values deliberately",
    "P1.3": "Detect outliers and decide what to do with them",
    "P1.4": "Remove duplicate records",
    "P1.5": "Convert types and scale features",
    "P1.6": "Reduce noise and redundant features",
    "P1.7": "Keep training, validation and test sets distinct",
    "P1.8": "Augment scarce data",
    "P1.9": "Assess data quality before modelling",
    # P2 Model selection and hyperparameter optimisation
    "P2.1": "Choose a model family that fits the task and data",
    "P2.2": "Compare candidate models on a validation set",
    "P2.3": "Tune hyperparameters with cross-validation and record every trial",
    "P2.4": "Consider interactions between hyperparameters",
    # P3 Training strategy and regularisation
    "P3.1": "Choose batch size, learning-rate schedule and optimiser with care",
    "P3.2": "Stop early when validation performance stops improving",
    "P3.3": "Regularise the model",
    # P4 Validation and evaluation
    "P4.1": "Keep evaluation sets representative and stratified",
    "P4.2": "Prevent leakage between training and evaluation data",
    "P4.3": "Choose metrics that suit the task",
    "P4.4": "Reserve the test set for the final, unbiased estimate",
    "P4.5": "Cross-validate for a more reliable estimate",
    "P4.6": "Test whether differences between models are significant",
    "P4.7": "Keep evaluating after deployment",
    # P5 Explanation and feature importance
    "P5.1": "Visualise how features drive outputs",
    "P5.2": "Explain single predictions and attribute outputs to features",
    "P5.3": "Measure feature importance",
    "P5.4": "Cross-check explanations from several methods",
    # P6 Deployment and monitoring
    "P6.1": "Choose and size the deployment target",
    "P6.2": "Optimise, package and automate the model's delivery",
    "P6.3": "Monitor performance, data drift and infrastructure",
    "P6.4": "Version models and plan for failover",
    # P7 Model evolution and continuous improvement
    "P7.1": "Review performance regularly and retrain",
    "P7.2": "Improve the model systematically",
    "P7.3": "Automate the improvement loop with CI/CD",
    # P8 Ethics and social impact
    "P8.1": "Measure fairness across groups",
    "P8.2": "Protect personal data",
    "P8.3": "Document what the model does, on what data, with what limits",
    "P8.4": "Make someone accountable for the model's decisions",
}


def practice_title(code: str) -> str | None:
    """The short title of practice ``code``, or ``None`` for an unknown code."""
    return PRACTICES.get(code)


def format_practice(code: str) -> str:
    """``"P1.2 Handle missing values deliberately"``; an unknown code is returned as is."""
    title = PRACTICES.get(code)
    return f"{code} {title}" if title else code
