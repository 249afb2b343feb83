# RAVDESS for AVT-CA-style models, read from the released Actor_XX folders.
# Default split: Chumachenko et al. / AVT-CA (test actors 1-4, validation
# 5-8, training 9-24). The 6-fold protocol (4 actors per fold, no
# validation set) is configs/avtca_ravdess_6fold.py.
_base_ = ['./avtca_inputs.py']

dataset_type = 'RavdessDataset'
data_root = 'data/RAVDESS'
split = dict(folds=[[1, 2, 3, 4]], fold=1, val_subjects=[5, 6, 7, 8])

dataset = dict(type=dataset_type, data_root=data_root, media='av+wav')

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
