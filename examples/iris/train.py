#!/usr/bin/python3
"""Train the iris example: a scikit-learn logistic regression on the iris
data that ships with scikit-learn. Writes model.pkl next to this file and
prints the held-out accuracy. Deterministic: same library versions, same
bytes."""
import json
import os
import pickle
import sys

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

here = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "model.pkl")

x, y = load_iris(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.3, random_state=42, stratify=y)
model = LogisticRegression(max_iter=1000, random_state=0)
model.fit(x_train, y_train)
accuracy = float(model.score(x_test, y_test))

tmp = out + ".tmp"
with open(tmp, "wb") as f:
    pickle.dump(model, f, protocol=4)
os.replace(tmp, out)
print(json.dumps({"accuracy": round(accuracy, 4), "model": out}))
