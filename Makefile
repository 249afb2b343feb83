# mmemo: one-command entry points for a fresh machine.
#   make demo   install everything, generate the synthetic AV emotion set,
#               train AVT-CA on it (CPU), test the best checkpoint and print
#               the metrics table (fusion, audio alone, video alone)
#   make test   install everything, then run the test suite
# VENV (default .venv) selects the virtual environment; tools/install.sh reuses
# it when nothing that decides its contents has changed.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIG ?= configs/avtca_synth.py
DEMO_WORK_DIR ?= work_dirs/$(basename $(notdir $(DEMO_CONFIG)))

.PHONY: install demo test

install:
	VENV=$(VENV) bash tools/install.sh

# the best validation checkpoint (save_best), else the last one
DEMO_CKPT = $$(ls $(DEMO_WORK_DIR)/best_*.pth 2>/dev/null | tail -n 1 | grep . || cat $(DEMO_WORK_DIR)/last_checkpoint)

demo: install
	$(PY) tools/data/synthetic/generate_synthetic.py
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) "$(DEMO_CKPT)" --work-dir $(DEMO_WORK_DIR)/test
	$(PY) tools/analysis_tools/print_metrics.py $(DEMO_WORK_DIR)/test

test: install
	$(PY) -m pytest tests
