"""Writes examples/notebook.ipynb (run from the repository root: python examples/make_notebook.py).

The notebook is kept as this script so that its cells are reviewed as code; the committed
.ipynb has no outputs (tests/test_notebook.py executes it).
"""

import nbformat as nbf

nb = nbf.v4.new_notebook()
cells = []
md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell
cells.append(md("""# Auditing a LightGBM model in a notebook

This notebook fits a LightGBM classifier on the bundled UCI Adult data (native categorical
features), audits it with `auditor.audit(...)`, looks at one finding, and saves the reports
and the model in LightGBM's own text format. The same audit from the command line, on the
saved model file, gives the same results for every check (a test runs this notebook and
checks that; only the model card's text, set below, is the notebook's own):

```sh
auditor run --model reports/notebook/adult_lightgbm.txt --model-classes '<=50K,>50K' \\
    --train examples/adult/adult_train.csv.gz --test examples/adult/adult_test.csv.gz \\
    --target income --positive-label '>50K' --sensitive sex --sensitive race \\
    --policy examples/adult/audit.yaml --out reports/notebook-cli
```

Run it from the repository root or from `examples/`, with the set-up of the README
(`bash scripts/setup.sh`; LightGBM is the `lightgbm` extra)."""))
cells.append(code("""import os
from pathlib import Path

import lightgbm as lgb
import pandas as pd

import auditor

ROOT = Path.cwd() if (Path.cwd() / "examples").is_dir() else Path.cwd().parent
DATA = ROOT / "examples" / "adult"
OUT = Path(os.environ.get("AUDITOR_NOTEBOOK_OUT") or ROOT / "reports" / "notebook")
OUT.mkdir(parents=True, exist_ok=True)

train = pd.read_csv(DATA / "adult_train.csv.gz")
test = pd.read_csv(DATA / "adult_test.csv.gz")
target = "income"
train.shape, test.shape"""))
cells.append(md("LightGBM reads pandas `category` columns natively. The audit is given the data as read from "
                "the files: the model's adapter turns text columns into the categories the model was trained on."))
cells.append(code("""categorical = [c for c in train.columns if not pd.api.types.is_numeric_dtype(train[c]) and c != target]
X = train.drop(columns=target).astype({c: "category" for c in categorical})
model = lgb.LGBMClassifier(n_estimators=150, learning_rate=0.05, num_leaves=31, min_child_samples=20,
                           random_state=0, n_jobs=1, verbose=-1)
model.fit(X, train[target])
model.booster_.save_model(str(OUT / "adult_lightgbm.txt"))
list(model.classes_)"""))
cells.append(md("The example's policy (`examples/adult/audit.yaml`) as a dict, with its model card describing "
                "this model rather than the bundled scikit-learn one:"))
cells.append(code("""import yaml

policy = yaml.safe_load((DATA / "audit.yaml").read_text())
policy["model_card"].update(
    name="Adult income example (LightGBM, fitted in the notebook)",
    description="A LightGBM classifier with native categorical features, fitted in examples/notebook.ipynb "
                "on the UCI Adult census data, to predict whether a person's annual income exceeds $50,000.",
)
report = auditor.audit(
    model=model, train=train, test=test, target=target, positive_label=">50K",
    sensitive=["sex", "race"], policy=policy,
)
report"""))
cells.append(md("One finding in full (metrics with intervals, figures, evidence):"))
cells.append(code("""report.show("FR002")"""))
cells.append(code("""written = report.save(OUT, formats="html,json")
print(report.passed, report.exit_code, {fmt: str(path) for fmt, path in written.items()})"""))
nb["cells"] = cells
nb["metadata"] = {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                  "language_info": {"name": "python"}}
nbf.write(nb, "examples/notebook.ipynb")
