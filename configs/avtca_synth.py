# AVT-CA on the built-in synthetic AV emotion set (generated on first use).
# The main job of the README: `python tools/train.py configs/avtca_synth.py`.
_base_ = [
    './_base_/models/avtca.py', './_base_/datasets/synthetic_av.py',
    './_base_/schedules/avtca_sgd.py', './_base_/default_runtime.py'
]

model = dict(fusion_head=dict(num_classes=6))

# keep the best validation WAR (the code's model selection)
default_hooks = dict(
    checkpoint=dict(interval=1, save_best='emo/war', rule='greater'),
    logger=dict(interval=10))
