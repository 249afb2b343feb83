# mmemo's runtime defaults with TensorBoard logging: use this file in place of
# `default_runtime.py` in a config's `_base_` (MMEngine refuses a key that two
# bases both set, so it cannot be listed next to `default_runtime.py`).
#
# The scalars (loss, lr per iteration; validation metrics per epoch) and the
# confusion-matrix image of each validation go to
# `<work_dir>/<timestamp>/vis_data/events.out.tfevents.*` as well as to the
# local `scalars.json` / `vis_image/`:
#     tensorboard --logdir work_dirs/CONFIG_NAME
# Needs `pip install tensorboard`.
#
# Without editing a config:
#     python tools/train.py CONFIG --cfg-options \
#         'visualizer.vis_backends=[LocalVisBackend,TensorboardVisBackend]'
_base_ = './default_runtime.py'

# Merged into default_runtime's `visualizer` (already built in mmemo's scope,
# with `_delete_` dropping MMAction2's `_scope_='mmaction'` entry): a list
# replaces the inherited list as a whole.
visualizer = dict(vis_backends=[
    dict(type='LocalVisBackend'),
    dict(type='TensorboardVisBackend'),
])
