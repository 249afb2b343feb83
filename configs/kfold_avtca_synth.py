# AVT-CA on the built-in synthetic AV emotion set with a subject-independent
# 5-fold protocol over its 10 actors (blocks of 2 actors); each fold selects
# its checkpoint on the 2 highest actor ids outside its test fold:
#   python tools/kfold.py configs/kfold_avtca_synth.py --folds all
# (tools/kfold.py runs tools/train.py and tools/test.py once per fold and
# writes the per-fold table with mean ± std; docs/en/user_guides/
# train_test.md, "k-fold evaluation").
_base_ = ['./avtca_synth.py']

five_folds = [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]]
split = dict(folds=five_folds, fold=1, val_subjects=2)
train_dataloader = dict(dataset=split)
val_dataloader = dict(dataset=split)
test_dataloader = dict(dataset=split)
