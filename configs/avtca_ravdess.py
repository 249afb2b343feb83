# AVT-CA on RAVDESS speech (8 classes), the official recipe: the 01- mp4's
# frames with the matching 03- wav; test actors 1-4, validation 5-8.
_base_ = [
    './_base_/models/avtca.py', './_base_/datasets/ravdess_av.py',
    './_base_/schedules/avtca_sgd.py', './_base_/default_runtime.py'
]

# keep the best validation WAR (the code's model selection)
default_hooks = dict(
    checkpoint=dict(interval=1, save_best='emo/war', rule='greater'),
    logger=dict(interval=10))
