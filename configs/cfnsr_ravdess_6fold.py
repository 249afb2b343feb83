# CFN-SR on RAVDESS speech with the standard 6-fold protocol (HiCMAE, MSAF;
# datasets.md): fold k tests actors 4k-3..4k, the other 20 actors train,
# there is no validation set and the last epoch is tested. Report the mean
# of the 6 folds' WAR/UAR. Choose the fold on the command line:
#   python tools/train.py configs/cfnsr_ravdess_6fold.py \
#       --cfg-options train_dataloader.dataset.fold=3 \
#                     test_dataloader.dataset.fold=3
_base_ = ['./cfnsr_ravdess.py']

six_folds = [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16],
             [17, 18, 19, 20], [21, 22, 23, 24]]
train_dataloader = dict(
    dataset=dict(folds=six_folds, fold=1, val_subjects=None))
test_dataloader = dict(
    dataset=dict(folds=six_folds, fold=1, val_subjects=None))
val_dataloader = None
val_evaluator = None
val_cfg = None
default_hooks = dict(checkpoint=dict(save_best=None))
