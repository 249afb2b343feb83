# mmemo: one-command entry points for a fresh machine.
#   make demo   install everything, generate the synthetic AV emotion set,
#               train AVT-CA on it (CPU), test the best checkpoint and print
#               the metrics table (fusion, audio alone, video alone)
#   make demo-va  the valence/arousal recipe on the synthetic VA set (CPU):
#               train the concat baseline's encoders, cache their features,
#               train JCA and JMT on the cache, test all three
#   make test   install everything, then run the test suite
#   make docs   build the documentation site into docs/en/_build/html
#               (warnings are errors, as in the tests)
# VENV (default .venv) selects the virtual environment; tools/install.sh reuses
# it when nothing that decides its contents has changed.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_CONFIG ?= configs/avtca_synth.py
DEMO_WORK_DIR ?= work_dirs/$(basename $(notdir $(DEMO_CONFIG)))

.PHONY: install demo demo-va test docs

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

docs: install
	$(PY) -m sphinx -W --keep-going -b html docs/en docs/en/_build/html

VA_FEATURES ?= data/synthetic_va/features/concat_synth_va
# make demo-va SEED=N: every stage with seed N (work dirs end in _seedN; the
# feature cache is rewritten from that run's stage 1)
SEED ?= 0
VA_WORK = work_dirs/$(1)_synth_va$(if $(filter 0,$(SEED)),,_seed$(SEED))

demo-va: install
	$(PY) tools/data/synthetic/generate_synthetic.py --variant dimensional
	$(PY) tools/train.py configs/concat_synth_va.py --seed $(SEED) --work-dir $(call VA_WORK,concat)
	$(PY) tools/test.py configs/concat_synth_va.py "$$(cat $(call VA_WORK,concat)/last_checkpoint)" --work-dir $(call VA_WORK,concat)/test
	$(PY) tools/misc/extract_va_features.py configs/concat_synth_va.py "$$(cat $(call VA_WORK,concat)/last_checkpoint)" --out $(VA_FEATURES) --overwrite
	for head in jca jmt maven; do \
	  $(PY) tools/train.py configs/$${head}_synth_va.py --seed $(SEED) --work-dir $(call VA_WORK,$${head}) && \
	  $(PY) tools/test.py configs/$${head}_synth_va.py "$$(cat $(call VA_WORK,$${head})/last_checkpoint)" --work-dir $(call VA_WORK,$${head})/test || exit 1; \
	done
	$(PY) tools/analysis_tools/print_metrics.py $(call VA_WORK,concat)/test $(call VA_WORK,jca)/test $(call VA_WORK,jmt)/test $(call VA_WORK,maven)/test
