# AVT-CA on CREMA-D (6 classes): VideoFlash/*.flv frames + AudioWAV/*.wav,
# HiCMAE fold 1 (select another with --cfg-options, see the dataset base).
_base_ = [
    './_base_/models/avtca.py', './_base_/datasets/cremad_av.py',
    './_base_/schedules/avtca_sgd.py', './_base_/default_runtime.py'
]

model = dict(fusion_head=dict(num_classes=6))

# keep the best validation WAR (the code's model selection)
default_hooks = dict(
    checkpoint=dict(interval=1, save_best='emo/war', rule='greater'),
    logger=dict(interval=10))
