# mmemo: one-command entry points for a fresh machine.
#   make demo   install everything, then train and test the built-in config on CPU
#   make test   install everything, then run the test suite
# VENV (default .venv) selects the virtual environment; tools/install.sh reuses
# it when nothing that decides its contents has changed.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIG ?= configs/toy_av.py
DEMO_WORK_DIR ?= work_dirs/$(basename $(notdir $(DEMO_CONFIG)))

.PHONY: install demo test

install:
	VENV=$(VENV) bash tools/install.sh

demo: install
	$(PY) tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_WORK_DIR)
	$(PY) tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_WORK_DIR)/last_checkpoint)" --work-dir $(DEMO_WORK_DIR)

test: install
	$(PY) -m pytest tests
