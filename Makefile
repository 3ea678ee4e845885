# langpose: two commands on a fresh machine — `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: venv test demo figures bench lint clean

venv: $(STAMP)

# Re-install only when pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -e ".[dev]"
	# the `real` extra (real-motion test data), without its heavy unused dependencies
	$(PY) -m pip install --quiet --no-deps $$($(PY) -c 'import tomllib; print(" ".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["real"]))')
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (langpose)" >/dev/null
	@touch $(STAMP)

test: venv
	$(PY) -m pytest -q

demo: venv
	$(PY) -m langpose.demo

# the figures: from the alignment study's (a)/(d) seed-0 pair when the study has run here
# (python -m langpose.ablation writes runs/ablation/study.json): after fine-tuning, except the
# embedding map and the similarity matrix, from the stage-1 models whose embeddings are the aligned
# ones; else from the shipped tiny aligned / no-alignment pair (langpose/weights, see langpose.zoo)
figures: venv
	@if [ -f runs/ablation/study.json ]; then \
	  $(PY) -m langpose.figures --out figures --ablation-runs runs/ablation && \
	  $(PY) -m langpose.figures --out figures --ablation-runs runs/ablation --ablation-stage pretrain --only embedding_map similarity; \
	else \
	  $(PY) -m langpose.figures --out figures --checkpoint langpose/weights/tiny.pt --baseline-checkpoint langpose/weights/tiny-noalign.pt; \
	fi

bench: venv
	$(PY) bench/bench_data.py
	$(PY) bench/bench_model.py

clean:
	rm -rf $(VENV) runs .pytest_cache
