# CREMA-D for AVT-CA-style models, read from VideoFlash/*.flv + AudioWAV/*.wav.
# HiCMAE's 5 subject folds (fold 1 by default); model selection on the 4
# highest actor ids outside the test fold (val_subjects=4 follows `fold`):
#   --cfg-options train_dataloader.dataset.fold=3 val_dataloader.dataset.fold=3
#                 test_dataloader.dataset.fold=3
_base_ = ['./avtca_inputs.py']

dataset_type = 'CremaDDataset'
data_root = 'data/CREMA-D'
split = dict(fold=1, val_subjects=4)

dataset = dict(type=dataset_type, data_root=data_root)

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='SeededSampler', shuffle=True),
    dataset=dict(
        split='train', pipeline={{_base_.train_pipeline}}, **split, **dataset))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        split='val',
        pipeline={{_base_.test_pipeline}},
        test_mode=True,
        **split,
        **dataset))
test_dataloader = dict(
    val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))

val_evaluator = dict(type='EmotionClsMetric')
test_evaluator = val_evaluator
